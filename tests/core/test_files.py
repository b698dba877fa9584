"""Atomic writes: the old content or the new, never a half-written file, and secrets born private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.files import atomic_write


def test_replaces_content_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "state.json"
    atomic_write(target, "one")
    atomic_write(target, b"two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_mode_is_set_before_the_content_lands(tmp_path: Path) -> None:
    target = atomic_write(tmp_path / "token", "s3cret", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "graph.json"
    atomic_write(target, "old")

    class Boom(str):
        def encode(self, *args: object, **kwargs: object) -> bytes:
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(target, Boom("new"))
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.json"]
