"""`kg` names its public API, loads it lazily, and keeps the data model free of the extractors."""

from __future__ import annotations

import subprocess
import sys

import kg


def test_every_public_name_resolves() -> None:
    for name in kg.__all__:
        assert getattr(kg, name).__name__ == name


def test_import_kg_is_cheap_and_the_model_needs_no_extractor() -> None:
    code = (
        "import sys, kg, kg.model, kg.store\n"
        "print(sorted(m for m in ('kg.extract', 'kg.offline', 'kg.llm_extract', 'openai') if m in sys.modules))\n"
    )
    bare = "import sys, kg\nprint('networkx' in sys.modules, 'pydantic' in sys.modules)\n"
    assert subprocess.run([sys.executable, "-c", bare], capture_output=True, text=True, check=True).stdout == (
        "False False\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"
