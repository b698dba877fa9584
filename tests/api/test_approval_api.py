"""Approvals over HTTP: the native API streams the request and takes the answer; an OpenAI client (Continue)
reads what waits in the answer's text and approves with a follow-up message, never a silent execution."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import openai
import pytest

from tests.support.scripted_server import ScriptedServer, text, tool

TOKEN = "approval-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(api_factory: Callable[..., str]) -> str:
    return api_factory(token=TOKEN)


@pytest.fixture
def coder(scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    scripted_roles.script(tool("run_python", {"code": "print(6 * 7)"}), text("It prints 42."))
    return scripted_roles


def events_of(response: httpx.Response) -> list[dict]:
    return [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]


def native_turn(api: str, body: dict) -> list[dict]:
    with httpx.stream("POST", f"{api}/api/turns", json=body, headers=AUTH, timeout=60) as response:
        assert response.status_code == 200, response.read()
        return events_of(response)


def test_openai_client_sees_the_pending_action_and_approves_with_a_message(coder: ScriptedServer, api: str) -> None:
    client = openai.OpenAI(base_url=f"{api}/v1", api_key=TOKEN, max_retries=0, timeout=60)
    question = {"role": "user", "content": "What does print(6 * 7) print? Run it."}
    first = client.chat.completions.create(model="spark-agents-coding", messages=[question])
    content = first.choices[0].message.content or ""
    pending = [e for e in first.model_extra["spark_agents"]["events"] if e["type"] == "approval"]
    assert len(pending) == 1 and pending[0]["tool"] == "run_python"
    assert "Approval needed" in content and "run_python" in content and f"approve {pending[0]['id']}" in content
    assert not [e for e in first.model_extra["spark_agents"]["events"] if e["type"] == "tool_call"]
    # Continue resends the whole conversation without a thread id; the last message is the user's answer.
    follow_up = [
        question,
        {"role": "assistant", "content": content},
        {"role": "user", "content": f"approve {pending[0]['id']}"},
    ]
    stream = client.chat.completions.create(model="spark-agents-coding", messages=follow_up, stream=True)
    answer = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert answer == "It prints 42."
    assert "42" in [m for m in coder.chat_requests[-1]["messages"] if m["role"] == "tool"][0]["content"]


def test_streamed_openai_answer_says_what_waits(coder: ScriptedServer, api: str) -> None:
    client = openai.OpenAI(base_url=f"{api}/v1", api_key=TOKEN, max_retries=0, timeout=60)
    stream = client.chat.completions.create(
        model="spark-agents-coding", messages=[{"role": "user", "content": "Run print(6 * 7)"}], stream=True
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content.startswith("Approval needed") and "`approve " in content
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_native_api_streams_the_request_and_takes_the_answer(coder: ScriptedServer, api: str) -> None:
    first = native_turn(api, {"message": "What does print(6 * 7) print?", "agent": "coding"})
    kinds = [e["type"] for e in first]
    assert kinds[-2:] == ["approval", "final"]
    request = first[-1]["approval"]
    assert request == {k: first[-2][k] for k in request}  # the event and the final name the same request
    assert (request["tool"], request["arguments"]) == ("run_python", {"code": "print(6 * 7)"})
    detail = httpx.get(f"{api}/api/threads/{request['thread_id']}", headers=AUTH)
    assert detail.json()["pending_approval"]["id"] == request["id"]  # a UI opening the thread shows the card

    rest = native_turn(api, {"approval": {"id": request["id"], "approved": True}})
    assert [e["tool"] for e in rest if e["type"] == "tool_call"] == ["run_python"]
    assert rest[-1]["type"] == "final" and rest[-1]["text"] == "It prints 42."
    assert rest[-1]["thread_id"] == request["thread_id"]
    again = native_turn(api, {"approval": {"id": request["id"], "approved": True}})
    assert again[-1]["type"] == "error" and "Nothing is waiting" in again[-1]["message"]


def test_native_api_refuses_a_malformed_answer(api: str) -> None:
    response = httpx.post(f"{api}/api/turns", json={"approval": {"id": "not hex!", "approved": "maybe"}}, headers=AUTH)
    assert response.status_code == 400
    assert "approval" in response.json()["error"]["message"]
