"""generate_code and explain_error against the real local model (llama.cpp, SmolLM2-135M): slow, opt-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coding.codegen import explain_error, generate_code
from coding.isolation import bubblewrap_works
from coding.sandbox import Sandbox
from coding.settings import CodeSettings

pytestmark = pytest.mark.real_model


@pytest.fixture
def local_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local llama.cpp server, started on first use by the coder role and stopped afterwards."""
    from serving.llama_server import LocalModelServer
    from serving.settings import ServingSettings

    settings = ServingSettings()
    if settings.model_path is None or not settings.model_path.exists():
        pytest.skip("no local GGUF model installed")
    monkeypatch.setenv("SPARK_AGENTS_CODE_MAX_TOKENS", "256")
    try:
        yield
    finally:
        LocalModelServer(settings).stop()


def test_generate_run_and_explain_with_the_local_model(local_model: None) -> None:
    generated = generate_code("python", "Print the sum of the numbers 1 to 10.", settings=CodeSettings())
    assert generated.code.strip(), generated
    assert "```" not in generated.code  # the fence was taken off
    assert generated.model == "smollm2-135m-instruct"
    # A 135M model may well write wrong code; what must hold is that running it is safe and fully reported.
    result = Sandbox(CodeSettings()).run_python(generated.code)
    assert result.isolation == ("bubblewrap" if bubblewrap_works() else "rlimits-only")
    assert result.exit_code is not None or result.stopped_by is not None
    explanation = explain_error("NameError: name 'x' is not defined", code="print(x)", settings=CodeSettings())
    assert explanation.explanation.strip()
