"""The source tree Conveyor runs from (a checkout, or the installed package's folder):
the bundled configs and data are found relative to it."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
