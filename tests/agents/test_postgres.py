"""The checkpointer by URL, for real: a PostgreSQL server started by the test (Debian's `postgresql`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import SparkAgentsError
from tests.support.postgres import postgres_bin, postgres_server
from tests.support.scripted_server import ScriptedServer, text
from tests.support.turns import reset_runtime, run_turn

pytestmark = pytest.mark.skipif(
    postgres_bin() is None, reason="needs Debian's postgresql (bash scripts/install.sh --system installs it)"
)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def test_a_thread_continues_from_postgres_after_a_restart(
    llm_routing: ScriptedServer, postgres_url: str, spark_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    monkeypatch.setenv("SPARK_AGENTS_AGENT_CHECKPOINT_URL", postgres_url)
    llm_routing.script(text("Nice to meet you, Ada."), text("Your name is Ada."))
    first = list(run_turn("My name is Ada."))[-1]
    assert first.type == "final", first
    reset_runtime()  # the process's graph and saver are gone; the conversation lives in Postgres
    second = list(run_turn("What is my name?", thread_id=first.thread_id))[-1]
    assert second.type == "final" and second.text == "Your name is Ada."
    seen = [m["content"] for m in llm_routing.chat_requests[-1]["messages"] if m["role"] in ("user", "assistant")]
    assert seen == ["My name is Ada.", "Nice to meet you, Ada.", "What is my name?"]
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (first.thread_id,)).fetchone()
    assert rows is not None and rows[0] > 0
    assert not (spark_home / "checkpoints.sqlite").exists()  # nothing went to the SQLite default


def test_an_unreachable_postgres_is_one_clear_error(
    llm_routing: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.daemon import free_port

    url = f"postgresql://spark:secret@127.0.0.1:{free_port()}/nope"
    monkeypatch.setenv("SPARK_AGENTS_AGENT_CHECKPOINT_URL", url)
    with pytest.raises(SparkAgentsError, match="Cannot open the Postgres checkpointer at 127.0.0.1") as raised:
        list(run_turn("hello"))
    assert "secret" not in str(raised.value) and "refused" in str(raised.value)
