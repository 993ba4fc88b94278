"""Reader for the Inner Universe `atlas` Pulumi stack output (see README.md)."""

from .reader import (
    SCHEMA_ENV,
    Atlas,
    AtlasReadError,
    AtlasSchema,
    check,
    load_schema,
    parse,
    read_file,
    read_stack,
)
from .schema import SchemaProblem

__all__ = [
    "SCHEMA_ENV",
    "Atlas",
    "AtlasReadError",
    "AtlasSchema",
    "SchemaProblem",
    "check",
    "load_schema",
    "parse",
    "read_file",
    "read_stack",
]
