"""Bad input to the API: each gets a clean OpenAI-shaped 4xx JSON error (or a closed stream), never a 500,
and stored threads stay as they were."""

from __future__ import annotations

import json
import socket

import httpx
import openai
import pytest

from agents.threads import ThreadStore
from core.errors import ConfigError
from core.net import check_bind
from serving.settings import ServingSettings
from tests.api.conftest import health, wait_until
from tests.support.scripted_server import Reply, ScriptedServer, text

URL = "/v1/chat/completions"
OK_BODY = {"model": "spark-agents", "messages": [{"role": "user", "content": "hi"}]}


def error_of(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and body["error"]["message"] and body["error"]["type"]
    assert "Traceback" not in r.text
    return body["error"]


@pytest.fixture
def existing_thread() -> str:
    return ThreadStore(ServingSettings().home / "threads.db").touch("keep-me", "an earlier conversation")


def assert_threads_intact(thread_id: str) -> None:
    assert [t.id for t in ThreadStore(ServingSettings().home / "threads.db").list()] == [thread_id]
    assert ThreadStore(ServingSettings().home / "threads.db").get(thread_id).title == "an earlier conversation"


def test_malformed_json_body(existing_thread: str, api: str) -> None:
    r = httpx.post(
        api + URL, content=b'{"model": "spark-agents", "messages": [', headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in error_of(r, 400)["message"]
    assert_threads_intact(existing_thread)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": 5, "messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": "spark-agents", "messages": "hi"}, "messages"),
        ({"model": "spark-agents", "messages": []}, "messages"),
        ({"model": "spark-agents", "messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role"),
        ({"model": "spark-agents", "messages": [{"role": "user", "content": 42}]}, "messages.0.content"),
        ({"model": "spark-agents", "messages": [{"role": "user", "content": "hi"}], "stream": "maybe"}, "stream"),
        ({"model": "spark-agents", "messages": [{"role": "user", "content": "hi"}], "n": 3}, "n"),
        ([1, 2, 3], "body"),
    ],
)
def test_wrong_types(existing_thread: str, body: object, field: str, api: str) -> None:
    err = error_of(httpx.post(api + URL, json=body), 400)
    assert err["message"].startswith(field)
    assert_threads_intact(existing_thread)


def test_last_message_must_be_a_user_message(existing_thread: str, api: str) -> None:
    body = {
        "model": "spark-agents",
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
    }
    assert "last message" in error_of(httpx.post(api + URL, json=body), 400)["message"]
    body = {"model": "spark-agents", "messages": [{"role": "user", "content": "   "}]}
    assert "empty" in error_of(httpx.post(api + URL, json=body), 400)["message"]
    assert_threads_intact(existing_thread)


def test_bad_thread_id_and_remote_image_url(existing_thread: str, api: str) -> None:
    err = error_of(httpx.post(api + URL, json=OK_BODY, headers={"X-Thread-Id": "../../etc/passwd"}), 400)
    assert "thread id" in err["message"]
    content = [{"type": "image_url", "image_url": {"url": "http://example.com/cat.png"}}]
    body = {"model": "spark-agents", "messages": [{"role": "user", "content": content}]}
    assert "data:image" in error_of(httpx.post(api + URL, json=body), 400)["message"]
    assert_threads_intact(existing_thread)


def test_unknown_model(existing_thread: str, api: str) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        openai.OpenAI(base_url=f"{api}/v1", api_key="x", max_retries=0).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    assert "spark-agents-coding" in str(info.value)
    assert_threads_intact(existing_thread)


def test_one_megabyte_message_is_413(existing_thread: str, scripted_roles: ScriptedServer, api: str) -> None:
    body = {"model": "spark-agents", "messages": [{"role": "user", "content": "x" * 1_000_000}]}
    assert "SPARK_AGENTS_API_MAX_BODY_BYTES" in error_of(httpx.post(api + URL, json=body), 413)["message"]
    # Chunked upload (no Content-Length): cut off while reading, same answer.
    chunks = (json.dumps(body)[i : i + 65536].encode() for i in range(0, 1_100_000, 65536))
    r = httpx.post(api + URL, content=chunks, headers={"content-type": "application/json"})
    error_of(r, 413)
    assert_threads_intact(existing_thread)
    assert scripted_roles.chat_requests == []  # nothing reached the model


def test_body_limit_is_configurable(api_factory, scripted_roles: ScriptedServer) -> None:
    scripted_roles.default = text("fine")
    url = api_factory(max_body_bytes=2000)
    small = {"model": "spark-agents", "messages": [{"role": "user", "content": "x" * 1000}]}
    big = {"model": "spark-agents", "messages": [{"role": "user", "content": "x" * 3000}]}
    assert "2000 bytes" in error_of(httpx.post(url + URL, json=big), 413)["message"]
    assert httpx.post(url + URL, json=small, timeout=60).status_code == 200


def test_token_auth(api_factory, scripted_roles: ScriptedServer, existing_thread: str) -> None:
    scripted_roles.default = text("authorized answer")
    url = api_factory(token="s3cret")
    err = error_of(httpx.post(url + URL, json=OK_BODY), 401)
    assert "bearer token" in err["message"]
    error_of(httpx.post(url + URL, json=OK_BODY, headers={"Authorization": "Bearer wrong"}), 401)
    error_of(httpx.get(url + "/v1/models", headers={"Authorization": "Basic czNjcmV0"}), 401)
    assert_threads_intact(existing_thread)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).models.list()
    good = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0)
    assert good.chat.completions.create(**OK_BODY).choices[0].message.content == "authorized answer"
    assert httpx.get(url + "/health").status_code == 200  # liveness needs no token


def test_non_loopback_bind_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="SPARK_AGENTS_API_TOKEN"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", "t")
    check_bind("127.0.0.1", None)
    check_bind("::1", None)


def test_foreign_host_header_is_refused_without_token(existing_thread: str, api: str) -> None:
    """DNS rebinding: a page served from evil.example resolving to 127.0.0.1 must not drive the API."""
    error_of(httpx.post(api + URL, json=OK_BODY, headers={"Host": "evil.example:8800"}), 421)
    assert httpx.get(api + "/health", headers={"Host": "localhost:8800"}).status_code == 200
    assert_threads_intact(existing_thread)


def test_unknown_path_and_method(api: str) -> None:
    error_of(httpx.get(api + "/v1/nothing"), 404)
    error_of(httpx.get(api + URL), 405)


def test_cancelled_stream_frees_the_run(scripted_roles: ScriptedServer, api: str) -> None:
    """The client hangs up after the first token of a 30-second answer: the server closes the run."""
    words = " ".join(f"w{i}" for i in range(300))
    scripted_roles.default = Reply(content=words, token_delay=0.1)
    body = {**OK_BODY, "stream": True}
    with httpx.stream("POST", api + URL, json=body, timeout=30) as r:
        for line in r.iter_lines():
            if '"content": "w0' in line:
                assert health(api)["active_runs"] == 1  # while the stream is open
                break  # leaving iter_lines closes the connection
    assert wait_until(lambda: health(api)["active_runs"] == 0, timeout=15)
    scripted_roles.default = text("next answer")
    r = httpx.post(api + URL, json=OK_BODY, timeout=30)
    assert r.json()["choices"][0]["message"]["content"] == "next answer"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def model_down(monkeypatch: pytest.MonkeyPatch) -> None:
    for role in ("SUPERVISOR", "CODER"):
        monkeypatch.setenv(f"SPARK_AGENTS_{role}_URL", f"http://127.0.0.1:{_closed_port()}/v1")
        monkeypatch.setenv(f"SPARK_AGENTS_{role}_MODEL", "gone")


def test_model_server_down(model_down: None, existing_thread: str, api: str) -> None:
    err = error_of(httpx.post(api + URL, json=OK_BODY, timeout=60), 502)
    assert "unavailable" in err["message"]
    with pytest.raises(openai.APIError) as info:
        stream = openai.OpenAI(base_url=f"{api}/v1", api_key="x", max_retries=0).chat.completions.create(
            **OK_BODY, stream=True
        )
        list(stream)
    assert "unavailable" in str(info.value)
    assert health(api)["active_runs"] == 0


def test_model_server_fails_mid_stream(scripted_roles: ScriptedServer, api: str) -> None:
    scripted_roles.default = Reply(content="this answer will be cut short " * 5, fault="drop_mid_stream")
    with httpx.stream("POST", api + URL, json={**OK_BODY, "stream": True}, timeout=60) as r:
        assert r.status_code == 200
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    last = json.loads(lines[-1][6:])
    assert last["error"]["message"] and "[DONE]" not in lines[-1]


def test_client_gone_before_a_non_streamed_answer_frees_the_run(scripted_roles: ScriptedServer, api: str) -> None:
    words = " ".join(f"w{i}" for i in range(300))
    scripted_roles.default = Reply(content=words, token_delay=0.1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(api + URL, json=OK_BODY, timeout=httpx.Timeout(10, read=3))
    assert wait_until(lambda: health(api)["active_runs"] == 0, timeout=15)
