"""Personal columns against the curated schema: a pseudonymized or dropped column whose
schema entry lists raw values would put those values into every imported schema and
anomaly artifact (and fail every pseudonym as out of domain), though no example holds
them. Checked when the config is loaded; `python -m pipeline schema --config` drafts
the entries this check accepts.
"""

from __future__ import annotations

from pathlib import Path

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from pipeline.config.settings import Config, ConfigError, Privacy


def read_schema(path: Path) -> schema_pb2.Schema:
    try:
        return text_format.Parse(path.read_text(encoding="utf-8"), schema_pb2.Schema())
    except text_format.ParseError as error:
        raise ConfigError(f"{path}: not a readable schema (text proto): {error}") from None


def raw_value_entries(schema: schema_pb2.Schema, column: str) -> list[str]:
    """Where the schema lists values of `column`: its own string domain, or the
    top-level string domain it names (or that carries its name)."""
    places, named = [], {column}
    for feature in schema.feature:
        if feature.name == column:
            if feature.string_domain.value:
                places.append(f"feature '{column}' string_domain")
            if feature.domain:
                named.add(feature.domain)
    places += [f"string_domain '{domain.name}'" for domain in schema.string_domain
               if domain.name in named and domain.value]
    return places


def check(config: Config) -> None:
    """Fails with one line naming the column, the schema file and the fix."""
    privacy = config.privacy
    if not (privacy.pseudonymize or privacy.drop) or not config.schema.is_file():
        return
    schema = read_schema(config.schema)
    for column in (*privacy.pseudonymize, *privacy.drop):
        places = raw_value_entries(schema, column)
        if places:
            what = "pseudonymized" if column in privacy.pseudonymize else "dropped"
            raise ConfigError(
                f"{config.source}: [privacy] column '{column}' is {what}, but the schema "
                f"{config.schema} lists its raw values ({', '.join(places)}); remove them "
                f"(`python -m pipeline schema --config` drafts a string entry, no domain)")


def draft_entries(schema: schema_pb2.Schema, privacy: Privacy) -> None:
    """Dropped columns leave the schema; a pseudonymized one becomes a string without a
    domain (its values are keyed hashes, the same set in no two deployments)."""
    personal = set(privacy.pseudonymize) | set(privacy.drop)
    kept = [f for f in schema.feature if f.name not in privacy.drop]
    domains = {f.domain for f in schema.feature if f.name in personal and f.domain} | personal
    del schema.feature[:]
    schema.feature.extend(kept)
    others = [d for d in schema.string_domain if d.name not in domains]
    del schema.string_domain[:]
    schema.string_domain.extend(others)
    for feature in schema.feature:
        if feature.name in privacy.pseudonymize:
            feature.type = schema_pb2.BYTES
            for field in ("domain", "string_domain", "int_domain", "float_domain",
                          "distribution_constraints", "drift_comparator", "skew_comparator"):
                feature.ClearField(field)
