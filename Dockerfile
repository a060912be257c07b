# The image the compiled Kubeflow pipeline runs: Python 3.10, the pinned stack, Conveyor.
# Build from the repository root: docker build -t "$IMAGE" .   (see docs/DEPLOY.md)
FROM python:3.10-slim

ENV TF_USE_LEGACY_KERAS=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/conveyor
COPY constraints.txt setup.py README.md ./
COPY pipeline/ pipeline/
COPY components/ components/
COPY models/ models/
COPY configs/ configs/
COPY schema/ schema/
# Installed (not editable): Transform, Trainer and Evaluator load models.* by module path.
RUN pip install -c constraints.txt . \
 && groupadd --gid 1000 conveyor \
 && useradd --uid 1000 --gid 1000 --create-home conveyor

# The user `conveyor`, by number, so Kubernetes' runAsNonRoot can verify it is not root.
USER 1000:1000
# Every compiled step runs this same command (pipeline/runners/kubeflow.launcher_command);
# the ENTRYPOINT makes `docker run IMAGE --executor_class_path ...` behave the same way.
ENTRYPOINT ["python", "-m", "components.container_entrypoint", "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"]
