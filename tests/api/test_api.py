"""The OpenAI-compatible API (`spark-agents serve`), over real sockets, against the scripted model server."""

from __future__ import annotations

import json
import threading

import httpx
import openai
import pytest

from agents.threads import ThreadStore
from api import MODELS
from serving.settings import ServingSettings
from tests.api.conftest import health
from tests.support.scripted_server import Reply, ScriptedServer, text

ANSWER = "Qdrant stores vectors with payloads."


def client(url: str, key: str = "none") -> openai.OpenAI:
    # The first turn starts the MCP servers: on a loaded CI box that took over 30 s.
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=120)


def user_texts(scripted: ScriptedServer) -> list[str]:
    """The user-message contents the model received, last request last."""
    req = scripted.chat_requests[-1]
    return [m["content"] for m in req["messages"] if m["role"] == "user" and isinstance(m["content"], str)]


def test_non_streaming_answer_has_openai_shape_and_thread(scripted_roles: ScriptedServer, api: str) -> None:
    scripted_roles.default = text(ANSWER)
    raw = client(api).chat.completions.with_raw_response.create(
        model="spark-agents", messages=[{"role": "user", "content": "What is Qdrant?"}]
    )
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == ANSWER
    assert completion.choices[0].finish_reason == "stop"
    thread_id = raw.headers["x-thread-id"]
    assert completion.model_extra["spark_agents"]["thread_id"] == thread_id
    assert [t.id for t in ThreadStore(ServingSettings().home / "threads.db").list()] == [thread_id]
    assert "What is Qdrant?" in user_texts(scripted_roles)[-1]


def test_openai_client_streams_chunks(scripted_roles: ScriptedServer, api: str) -> None:
    scripted_roles.default = text(ANSWER)
    stream = client(api).chat.completions.create(
        model="spark-agents", messages=[{"role": "user", "content": "What is Qdrant?"}], stream=True
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == ANSWER
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1  # really streamed
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["spark_agents"]["thread_id"]


def test_stream_ends_with_done_and_names_thread_in_header(scripted_roles: ScriptedServer, api: str) -> None:
    scripted_roles.default = text(ANSWER)
    body = {"model": "spark-agents", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    # a cold service loads its router model first: seconds before the first token (httpx waits 5 s by default)
    with httpx.stream(
        "POST", f"{api}/v1/chat/completions", json=body, headers={"X-Thread-Id": "t-42"}, timeout=120
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-thread-id"] == "t-42"
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    last = json.loads(lines[-2][6:])
    assert last["spark_agents"]["thread_id"] == "t-42"


@pytest.mark.parametrize(
    ("extra", "headers"),
    [({}, {"X-Thread-Id": "th-1"}), ({"metadata": {"thread_id": "th-1"}}, {}), ({"user": "th-1"}, {})],
    ids=["header", "metadata", "user"],
)
def test_thread_id_sources_send_only_last_message(
    scripted_roles: ScriptedServer, extra: dict, headers: dict, api: str
) -> None:
    scripted_roles.default = text(ANSWER)
    messages = [
        {"role": "user", "content": "first question about apples"},
        {"role": "assistant", "content": "an earlier answer"},
        {"role": "user", "content": "second question about pears"},
    ]
    r = httpx.post(
        f"{api}/v1/chat/completions",
        json={"model": "spark-agents", "messages": messages, **extra},
        headers=headers,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-thread-id"] == "th-1"
    sent = user_texts(scripted_roles)[-1]
    assert "second question about pears" in sent
    assert "apples" not in sent  # the thread holds the history, not the request
    assert ThreadStore(ServingSettings().home / "threads.db").get("th-1").title == "second question about pears"


def test_without_thread_earlier_messages_become_context(scripted_roles: ScriptedServer, api: str) -> None:
    scripted_roles.default = text(ANSWER)
    messages = [
        {"role": "system", "content": "You are in VS Code."},
        {"role": "user", "content": "first question about apples"},
        {"role": "assistant", "content": "apples are red"},
        {"role": "user", "content": "and pears?"},
    ]
    r = httpx.post(f"{api}/v1/chat/completions", json={"model": "spark-agents", "messages": messages}, timeout=30)
    assert r.status_code == 200, r.text
    sent = user_texts(scripted_roles)[-1]
    assert "[Earlier conversation]" in sent
    assert "user: first question about apples" in sent and "assistant: apples are red" in sent
    assert sent.rstrip().endswith("[Current message]\nand pears?")
    assert "VS Code" not in sent  # the client's system prompt is not forwarded
    assert r.headers["x-thread-id"]  # a new thread was started


def test_models_list_and_specialist_model_forces_that_agent(scripted_roles: ScriptedServer, api: str) -> None:
    scripted_roles.default = text(ANSWER)
    assert [m.id for m in client(api).models.list()] == list(MODELS)
    completion = client(api).chat.completions.create(
        model="spark-agents-coding", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == ANSWER
    events = completion.model_extra["spark_agents"]["events"]
    assert {"type": "handoff", "agent": "coding", "reason": "requested"} in events


def test_image_parts_are_saved_for_the_vision_agent(scripted_roles: ScriptedServer, spark_home, api: str) -> None:
    scripted_roles.default = text(ANSWER)
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    content = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
    ]
    r = httpx.post(
        f"{api}/v1/chat/completions",
        json={"model": "spark-agents-vision", "messages": [{"role": "user", "content": content}]},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert len(list((spark_home / "uploads").glob("*.png"))) == 1


def test_health_and_openapi_schema(api: str) -> None:
    assert health(api)["status"] == "ok"
    schema = httpx.get(f"{api}/openapi.json").json()
    assert {"/v1/chat/completions", "/v1/models", "/health"} <= set(schema["paths"])
    post = schema["paths"]["/v1/chat/completions"]["post"]
    assert "text/event-stream" in post["responses"]["200"]["content"]
    assert "ChatCompletionRequest" in schema["components"]["schemas"]
    assert httpx.get(f"{api}/docs").status_code == 200


def test_concurrent_requests_are_served_concurrently(scripted_roles: ScriptedServer, api: str) -> None:
    """Each model call waits until both have arrived: served one at a time, the barrier would break."""
    barrier = threading.Barrier(2, timeout=20)

    def handler(request: dict) -> Reply:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return text("SERIAL")
        return text("CONCURRENT")

    scripted_roles.handler = handler
    results: list[str] = []

    def ask() -> None:
        c = client(api).chat.completions.create(model="spark-agents", messages=[{"role": "user", "content": "go"}])
        results.append(c.choices[0].message.content or "")

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == ["CONCURRENT", "CONCURRENT"]
