"""Settings read once per environment, and JSON Schemas compiled once: same answers as building them
every time."""

from __future__ import annotations

import pytest
from jsonschema import SchemaError

from core.schemas import ValidationError, validate
from core.settings import current
from kg.settings import KGSettings


def test_settings_are_shared_until_the_environment_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_KG_SUMMARY_FACTS", "5")
    first = current(KGSettings)
    assert first.summary_facts == 5 and current(KGSettings) is first
    monkeypatch.setenv("SPARK_AGENTS_KG_SUMMARY_FACTS", "7")
    assert current(KGSettings).summary_facts == 7
    monkeypatch.delenv("SPARK_AGENTS_KG_SUMMARY_FACTS")
    assert current(KGSettings).summary_facts == KGSettings().summary_facts


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
