"""The loopback rule and the bearer check that the API and every MCP server share."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.net import bearer_token, check_bind, is_loopback, token_matches


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.4", "10.0.0.1", "example.com", "localhost.evil", ""])
def test_other_addresses_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_off_loopback_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="refusing to serve the kg MCP server on 0.0.0.0 without a token"):
        check_bind("0.0.0.0", None, "the kg MCP server", "SPARK_AGENTS_MCP_TOKEN")
    check_bind("0.0.0.0", "secret")
    check_bind("127.0.0.2", None)


def test_bearer_header_parsing_and_comparison() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token(b"bearer  abc ") == "abc"
    assert bearer_token("Basic abc") == ""
    assert bearer_token(None) == ""
    assert token_matches("abc", "abc")
    assert not token_matches("abd", "abc")
    assert not token_matches(None, "abc")
