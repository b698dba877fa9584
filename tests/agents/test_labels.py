"""How threads and tool results are labelled for people: cut at a word or with a marker, never silently."""

from __future__ import annotations

from agents.capabilities.base import shorten
from agents.threads import title_of


def test_a_long_first_message_is_titled_up_to_a_word_with_an_ellipsis() -> None:
    message = "Write a Python function that tells whether a string is a palindrome, and run a few tests on it."
    title = title_of(message)
    assert title.endswith("…") and len(title) <= 60
    assert message.startswith(title[:-1]) and message[len(title) - 1] == " "  # cut between words
    assert title_of("  What is\n2+2?  ") == "What is 2+2?"
    assert title_of("   ") == "New chat"


def test_a_cut_tool_result_says_how_much_is_left_out() -> None:
    assert shorten("x" * 500) == "x" * 500
    assert shorten('{"text": "' + "y" * 600 + '"}') == '{"text": "' + "y" * 490 + "… (112 more characters)"
