"""The sidebar's thread times: the hour today, the day otherwise."""

from __future__ import annotations

import time

from ui.views.chat import when


def test_a_threads_time_is_its_hour_today_and_its_day_before() -> None:
    now = time.mktime((2026, 12, 7, 15, 0, 0, 0, 0, -1))
    assert when(time.mktime((2026, 12, 7, 9, 5, 0, 0, 0, -1)), now) == "09:05"
    assert when(time.mktime((2026, 12, 3, 9, 5, 0, 0, 0, -1)), now) == "Dec 03"
    assert when(time.mktime((2025, 12, 3, 9, 5, 0, 0, 0, -1)), now) == "Dec 03 2025"
