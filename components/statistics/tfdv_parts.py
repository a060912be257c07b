"""The parts of TFDV that need neither TensorFlow nor Beam, loaded without the package.

`import tensorflow_data_validation` (any submodule runs the package's `__init__`) imports
TensorFlow and Apache Beam: about 4.5 s of CPU before the first statistic, most of a
command's start-up. The in-process statistics and the drift/skew comparison need only
TFDV's quantile and variance helpers (numpy and protos) and its C++ validation
extension, so those are loaded from their files. They are TFDV's own code, so the
figures and the verdicts are TFDV's to the last bit. When TFDV is already imported (in
a component), its modules are used as they are.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from types import ModuleType

_PACKAGE = "tensorflow_data_validation"
_EXTENSION = f"{_PACKAGE}.pywrap.tensorflow_data_validation_extension"


@functools.lru_cache(maxsize=None)
def _package_dir() -> str:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{_PACKAGE} is not installed")
    return list(spec.submodule_search_locations)[0]


def _load(name: str, relative_path: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    if _PACKAGE in sys.modules:  # TFDV is loaded: its own import, nothing to save
        return importlib.import_module(name)
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(_package_dir(), relative_path))
    module = importlib.util.module_from_spec(spec)
    # Registered under its own name, so a later `import tensorflow_data_validation` in the
    # same process reuses the loaded extension instead of initializing it twice.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def quantiles_util() -> ModuleType:
    return _load(f"{_PACKAGE}.utils.quantiles_util", os.path.join("utils", "quantiles_util.py"))


def variance_util() -> ModuleType:
    return _load(f"{_PACKAGE}.utils.variance_util", os.path.join("utils", "variance_util.py"))


def validation() -> ModuleType:
    """The C++ validation TFDV's `validate_statistics` calls."""
    return _load(_EXTENSION, os.path.join(
        "pywrap", "tensorflow_data_validation_extension.so")).validation
