"""JSON Schemas compiled once: the same answers as compiling them every time."""

from __future__ import annotations

import pytest
from jsonschema import SchemaError

from core.schemas import ValidationError, validate


def test_a_compiled_schema_rejects_what_jsonschema_rejects() -> None:
    schema = {
        "type": "object",
        "properties": {"hits": {"type": "array", "items": {"$ref": "#/$defs/hit"}}},
        "required": ["hits"],
        "$defs": {"hit": {"type": "object", "properties": {"score": {"type": "number"}}, "required": ["score"]}},
    }
    validate({"hits": [{"score": 0.5}]}, schema)
    validate({"hits": []}, schema)  # the second call uses the compiled validator
    with pytest.raises(ValidationError, match="'score' is a required property"):
        validate({"hits": [{}]}, schema)
    with pytest.raises(ValidationError, match="'high' is not of type 'number'"):
        validate({"hits": [{"score": "high"}]}, schema)
    with pytest.raises(SchemaError):
        validate({}, {"type": "no-such-type"})
