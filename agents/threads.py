"""Conversation threads: ids, titles and times, beside the LangGraph checkpoints that hold their messages."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from core.errors import SparkAgentsError
from core.wire import ApprovalRequest, ThreadInfo


class ThreadNotFound(SparkAgentsError):
    def __init__(self, thread_id: str) -> None:
        super().__init__(f"No thread with id {thread_id!r}; `spark-agents chat` then /threads lists them.")


class TurnRecord(BaseModel):
    """One finished turn as the front ends show it again: the question, the answer, who gave it, and the
    trace and citations that the checkpointed messages alone do not keep."""

    user: str
    answer: str
    agent: str = "supervisor"
    trace: list[dict[str, Any]] = Field(default_factory=list)
    citations: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None
    created: float = 0.0


class PendingApproval(BaseModel):
    """A turn paused for the user's approval: the request, and what the resumed turn's record needs."""

    request: ApprovalRequest
    user: str  # the user's message that started the turn
    agent: str = "supervisor"
    trace: list[dict[str, Any]] = Field(default_factory=list)  # the steps before the pause


def title_of(first_message: str, limit: int = 60) -> str:
    """A thread's title: its first message on one line, cut at a word with an ellipsis when it is long."""
    text = " ".join(first_message.split())
    if len(text) <= limit:
        return text or "New chat"
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


class ThreadStore:
    """A small SQLite table of threads under the data directory (`<home>/threads.db`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS threads (id TEXT PRIMARY KEY, title TEXT, created REAL, updated REAL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS turns (thread_id TEXT, seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                "record TEXT NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS turns_by_thread ON turns (thread_id, seq)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS approvals (id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, "
                "record TEXT NOT NULL)"
            )

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """The store's one connection (opened once: a connect costs more than the write), one thread at a
        time, one transaction per block. WAL without an fsync per commit: a process crash loses nothing
        committed."""
        with self._lock:
            if self._conn is None:
                self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            with self._conn:
                yield self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def touch(self, thread_id: str | None, first_message: str = "") -> str:
        """Create the thread if new (titled after its first message), bump its time; return its id."""
        thread_id = thread_id or uuid.uuid4().hex[:12]
        now = time.time()
        title = title_of(first_message)
        with self._db() as db:
            db.execute(
                "INSERT INTO threads VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET updated=excluded.updated",
                (thread_id, title, now, now),
            )
        return thread_id

    def record_turn(self, thread_id: str, turn: TurnRecord) -> None:
        """Keep a finished turn's record (written once per turn, after the checkpoint)."""
        turn = turn.model_copy(update={"created": turn.created or time.time()})
        with self._db() as db:
            db.execute("INSERT INTO turns (thread_id, record) VALUES (?, ?)", (thread_id, turn.model_dump_json()))

    def turns(self, thread_id: str) -> list[TurnRecord]:
        with self._db() as db:
            rows = db.execute("SELECT record FROM turns WHERE thread_id=? ORDER BY seq", (thread_id,)).fetchall()
        return [TurnRecord.model_validate(json.loads(r[0])) for r in rows]

    def add_pending(self, pending: PendingApproval) -> None:
        """Remember a paused turn (one per thread: the turn waits on one call at a time)."""
        request = pending.request
        with self._db() as db:
            db.execute("DELETE FROM approvals WHERE thread_id=?", (request.thread_id,))
            db.execute(
                "INSERT INTO approvals VALUES (?, ?, ?)", (request.id, request.thread_id, pending.model_dump_json())
            )

    def pending(self, thread_id: str) -> PendingApproval | None:
        with self._db() as db:
            row = db.execute("SELECT record FROM approvals WHERE thread_id=?", (thread_id,)).fetchone()
        return PendingApproval.model_validate_json(row[0]) if row else None

    def claim_pending(self, approval_id: str) -> PendingApproval | None:
        """Take a paused turn to resume it: only the first of two answers to the same request gets it."""
        with self._db() as db:
            row = db.execute("DELETE FROM approvals WHERE id=? RETURNING record", (approval_id,)).fetchone()
        return PendingApproval.model_validate_json(row[0]) if row else None

    def list(self) -> list[ThreadInfo]:
        with self._db() as db:
            rows = db.execute("SELECT id, title, created, updated FROM threads ORDER BY updated DESC").fetchall()
        return [ThreadInfo(id=r[0], title=r[1], created=r[2], updated=r[3]) for r in rows]

    def get(self, thread_id: str) -> ThreadInfo:
        with self._db() as db:
            r = db.execute("SELECT id, title, created, updated FROM threads WHERE id=?", (thread_id,)).fetchone()
        if r is None:
            raise ThreadNotFound(thread_id)
        return ThreadInfo(id=r[0], title=r[1], created=r[2], updated=r[3])

    def rename(self, thread_id: str, title: str) -> None:
        with self._db() as db:
            if db.execute("UPDATE threads SET title=? WHERE id=?", (title.strip()[:200], thread_id)).rowcount == 0:
                raise ThreadNotFound(thread_id)

    def delete(self, thread_id: str) -> None:
        """Forget the thread's entry; the runtime also deletes its checkpoints."""
        with self._db() as db:
            if db.execute("DELETE FROM threads WHERE id=?", (thread_id,)).rowcount == 0:
                raise ThreadNotFound(thread_id)
            db.execute("DELETE FROM turns WHERE thread_id=?", (thread_id,))
            db.execute("DELETE FROM approvals WHERE thread_id=?", (thread_id,))
