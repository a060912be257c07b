"""The compiled steps' entry point: the module's own outcome is the exit status, and an
abort during interpreter teardown (what tensorflow-io's S3 filesystem does) is not."""

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

MODULES = {
    "finishes": "print('done')",
    "exits_three": "import sys; sys.exit(3)",
    "raises": "raise ValueError('a real failure')",
    # Work that succeeds, then a teardown that aborts the interpreter, as S3's does.
    "aborts_at_teardown": "import atexit, os; atexit.register(os.abort); print('done', flush=True)",
}


@pytest.fixture
def modules(tmp_path):
    for name, body in MODULES.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body) + "\n")
    return tmp_path


def run(modules, *command):
    env = {"PYTHONPATH": f"{modules}:{REPO}", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, *command], capture_output=True, text=True, env=env,
                          cwd=modules, timeout=120)


@pytest.mark.parametrize("module, status", [("finishes", 0), ("exits_three", 3), ("raises", 1),
                                            ("aborts_at_teardown", 0)])
def test_the_status_is_the_modules_outcome(modules, module, status):
    done = run(modules, "-m", "components.container_entrypoint", module, "--flag", "x")
    assert done.returncode == status, done.stderr
    if module == "raises":
        assert "ValueError: a real failure" in done.stderr


def test_without_it_the_teardown_abort_fails_finished_work(modules):
    done = run(modules, "-m", "aborts_at_teardown")
    assert "done" in done.stdout and done.returncode != 0


def test_the_module_sees_its_own_arguments(modules):
    (modules / "echo.py").write_text("import sys; print(sys.argv[1:])\n")
    done = run(modules, "-m", "components.container_entrypoint", "echo", "--a", "1")
    assert done.returncode == 0 and done.stdout.strip() == "['--a', '1']"
