"""The vision MCP server through a real MCP client, over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession

from mcp_servers.sdk import field
from tests.support.mcp_client import http_server, http_session, stdio_session
from tests.support.scripted_server import ScriptedServer, text
from tests.vision.imaging import HEIC_HEADER, encoded, jpeg_with_exif, text_image

MODULE = "mcp_servers.vision"


def ok(result: Any) -> dict[str, Any]:
    assert not field(result, "isError"), result.content
    assert field(result, "structuredContent") is not None
    return field(result, "structuredContent")


def error_text(result: Any) -> str:
    assert field(result, "isError")
    return " ".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def exercise(session: ClientSession, tmp_path: Path, scripted: ScriptedServer) -> None:
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == {"describe_image", "extract_text", "image_info"}
    assert (
        field(tools["extract_text"], "outputSchema")
        and "text" in field(tools["extract_text"], "outputSchema")["properties"]
    )
    assert {"path", "image_base64"} <= set(field(tools["image_info"], "inputSchema")["properties"])

    page = tmp_path / "page.png"
    page.write_bytes(encoded(text_image(["Hello Spark Agents", "Invoice 4711 total 42.50"])))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_with_exif())

    # OCR, from a path and from base64
    got = ok(await session.call_tool("extract_text", {"path": str(page)}))
    assert got["text"].splitlines() == ["Hello Spark Agents", "Invoice 4711 total 42.50"]
    assert got["lines"][0]["text"] == "Hello Spark Agents" and got["source"] == str(page)
    b64 = base64.b64encode(page.read_bytes()).decode()
    got = ok(await session.call_tool("extract_text", {"image_base64": b64}))
    assert got["text"].startswith("Hello Spark Agents")

    # image_info: GPS hidden by default, shown when asked
    info = ok(await session.call_tool("image_info", {"path": str(photo)}))
    assert (info["format"], info["upright_width"], info["upright_height"]) == ("JPEG", 200, 400)
    assert info["has_gps"] and "GPSInfo" not in info["exif"] and info["exif"]["Make"] == "TestCam"
    info = ok(await session.call_tool("image_info", {"path": str(photo), "include_gps": True}))
    assert info["exif"]["GPSInfo"]["GPSLongitudeRef"] == "E"

    # describe_image: the vision role points at the scripted server
    scripted.script(text("A white page with two lines of black text."))
    got = ok(await session.call_tool("describe_image", {"question": "What is this?", "path": str(page)}))
    assert got["answer"] == "A white page with two lines of black text."
    parts = scripted.chat_requests[-1]["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["image_url", "text"]
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")

    scripted.script(text("Both show documents."))
    got = ok(
        await session.call_tool(
            "describe_image", {"question": "Compare.", "image_base64": b64, "more_paths": [str(photo)]}
        )
    )
    assert [i["mime"] for i in got["images"]] == ["image/png", "image/jpeg"]

    # bad input: a clear tool error, the server keeps serving
    heic = tmp_path / "IMG_1.heic"
    heic.write_bytes(HEIC_HEADER)
    assert "HEIC/HEIF" in error_text(await session.call_tool("image_info", {"path": str(heic)}))
    assert "not valid base64" in error_text(await session.call_tool("extract_text", {"image_base64": "%%%not"}))
    assert "exactly one image" in error_text(await session.call_tool("image_info", {}))
    assert ok(await session.call_tool("image_info", {"path": str(page)}))["format"] == "PNG"


def test_stdio(tmp_path: Path, scripted: ScriptedServer) -> None:
    env = {"SPARK_AGENTS_VISION_URL": scripted.url, "SPARK_AGENTS_VISION_MODEL": "qwen2.5-vl-test"}

    async def main() -> None:
        async with stdio_session(MODULE, env) as session:
            await exercise(session, tmp_path, scripted)

    asyncio.run(main())


def test_http(tmp_path: Path, scripted: ScriptedServer) -> None:
    env = {"SPARK_AGENTS_VISION_URL": scripted.url, "SPARK_AGENTS_VISION_MODEL": "qwen2.5-vl-test"}

    async def main(url: str) -> None:
        async with http_session(url) as session:
            await exercise(session, tmp_path, scripted)

    with http_server(MODULE, env) as url:
        asyncio.run(main(url))


def test_describe_without_a_vision_role_says_what_to_do_instead(tmp_path: Path) -> None:
    """The local profile has no VLM: the error names the role and the offline tools; those still work."""
    page = tmp_path / "page.png"
    page.write_bytes(encoded(text_image(["Offline still works"], size=(700, 130))))

    async def main() -> None:
        async with stdio_session(MODULE) as session:
            message = error_text(await session.call_tool("describe_image", {"path": str(page)}))
            assert "vision model server is unavailable" in message and "not configured" in message
            assert "extract_text" in message and "image_info" in message
            got = ok(await session.call_tool("extract_text", {"path": str(page)}))
            assert got["text"] == "Offline still works"

    asyncio.run(main())


@pytest.mark.parametrize("flag", ["--help"])
def test_cli_help(flag: str) -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", MODULE, flag], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--http" in out.stdout
