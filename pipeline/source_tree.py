"""The source tree Conveyor runs from (a checkout, or the installed package's folder):
the bundled configs and data are found relative to it."""

import hashlib
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parent.parent


def code_digest(folders: Iterable[Path], root: Path = ROOT) -> str:
    """A digest of every Python file under `folders`, by path relative to `root` and
    content: what a cache keyed on Conveyor's code must change with."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
