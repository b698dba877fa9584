"""JSON Schema validation with each schema compiled once.

`jsonschema.validate` checks the schema itself against its metaschema on every call, then builds a new
validator: for a tool's output schema that is milliseconds per call. The MCP SDK (1.x) calls it twice a
tool call, on the server for its output and on the client for the result (bench orchestration: about
half of a 20 ms tool hop). Both sides validate through here instead.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry

__all__ = ["ValidationError", "validate"]

_compiled: dict[str, Validator] = {}
_lock = threading.Lock()


def _validator(schema: dict[str, Any]) -> Validator:
    key = json.dumps(schema, sort_keys=True, default=str)
    found = _compiled.get(key)
    if found is None:
        cls = validator_for(schema)
        cls.check_schema(schema)  # a SchemaError once, as jsonschema.validate would raise it
        # An explicit empty registry: `$ref`s resolve within the schema document (as the SDK does).
        found = cls(schema, registry=Registry())
        with _lock:
            _compiled[key] = found
    return found


def validate(instance: Any, schema: dict[str, Any], **_: Any) -> None:
    """Raise the most relevant ValidationError, as `jsonschema.validate` does."""
    error = best_match(_validator(schema).iter_errors(instance))
    if error is not None:
        raise error
