# The image the compiled Kubeflow pipeline runs: Python 3.10, the pinned stack, Conveyor.
FROM python:3.10-slim

ENV TF_USE_LEGACY_KERAS=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /opt/conveyor
COPY constraints.txt setup.py README.md ./
COPY pipeline/ pipeline/
COPY components/ components/
COPY configs/ configs/
COPY schema/ schema/
RUN pip install -c constraints.txt . \
 && useradd --create-home --uid 1000 conveyor

USER conveyor
# TFX's Kubeflow V2 launcher: each task runs this module with its executor arguments.
ENTRYPOINT ["python", "-m", "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"]
