from __future__ import annotations

import pytest

from serving.registry import Role, endpoint, endpoints
from serving.settings import ServingSettings


def test_local_profile_names_all_four_roles_and_ships_its_models() -> None:
    table = endpoints(ServingSettings())
    assert set(table) == set(Role)
    assert table[Role.SUPERVISOR].managed == "llama-cpp"
    assert table[Role.SUPERVISOR].base_url is None  # nothing started in this fresh home
    assert table[Role.EMBEDDINGS].managed == "in-process"
    assert table[Role.VISION].configured is False
    settings = ServingSettings()
    assert settings.model_path is not None and settings.model_path.name.endswith(".gguf")
    assert settings.model_path.is_file()
    assert settings.embedding_path is not None and (settings.embedding_path / "config.json").is_file()


@pytest.mark.parametrize(("profile", "supervisor"), [("spark-120b", "gpt-oss-120b"), ("spark-20b", "gpt-oss-20b")])
def test_spark_profiles(monkeypatch: pytest.MonkeyPatch, profile: str, supervisor: str) -> None:
    monkeypatch.setenv("SPARK_AGENTS_PROFILE", profile)
    table = endpoints(ServingSettings())
    assert table[Role.SUPERVISOR].model == supervisor
    assert table[Role.VISION].model == "Qwen2.5-VL-7B-Instruct"
    assert all(ep.base_url and ep.base_url.startswith("http://127.0.0.1:") for ep in table.values())
    assert len({ep.base_url for ep in table.values()}) == 4


def test_environment_overrides_one_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_VISION_URL", "http://10.0.0.5:9000/v1")
    monkeypatch.setenv("SPARK_AGENTS_VISION_MODEL", "my-vlm")
    monkeypatch.setenv("SPARK_AGENTS_VISION_API_KEY", "secret")
    ep = endpoint("vision", ServingSettings())
    assert (ep.base_url, ep.model, ep.api_key, ep.managed) == (
        "http://10.0.0.5:9000/v1",
        "my-vlm",
        "secret",
        "external",
    )
    assert endpoint(Role.CODER, ServingSettings()).managed == "llama-cpp"  # other roles untouched


def test_unknown_profile_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_PROFILE", "spark-999b")
    with pytest.raises(ValueError, match="profile"):
        ServingSettings()
