"""Reading an artifact's property wherever TFX stored it.

TFX's IR-based orchestrators record properties such as an Examples artifact's `span` as
custom properties when the stored MLMD type does not declare them, so `artifact.span`
can read 0; both the components and the metadata queries read them through here.
"""

from __future__ import annotations

from typing import Optional

from tfx.types.artifact import Artifact


def int_property(artifact: Artifact, name: str) -> Optional[int]:
    """An artifact property wherever TFX stored it (typed property or custom property)."""
    mlmd = artifact.mlmd_artifact
    for table in (mlmd.properties, mlmd.custom_properties):
        if name in table:
            return table[name].int_value
    return None
