"""The vision capability: describe images, read their text (the `vision` MCP server).

Without a vision model (or with it down) describe_image fails: the image is then read with OCR and
image_info, and the model is told to say what needs the vision model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.capabilities.base import Capability, ToolContext
from serving.roles import Role

if TYPE_CHECKING:
    from agents.mcp_pool import ToolOutcome

IMAGE_WORDS = r"\b(image|photo|picture|screenshot|diagram|scan(ned)?|pic)s?\b"
OFFLINE_TOOLS = ("extract_text", "image_info")


async def read_without_a_vision_model(ctx: ToolContext, described: ToolOutcome) -> ToolOutcome:
    """describe_image failed: what OCR and image_info find instead, and what to tell the user."""
    if not described.is_error:
        return described
    parts = [f"describe_image failed: {described.text}"]
    for name in OFFLINE_TOOLS:
        tool = ctx.tools.get(name)
        args = ctx.fixed(tool) if tool is not None else {}
        if args:  # nothing to read without the attached image
            parts.append(f"{name}: {(await ctx.call(name, args)).text}")
    parts.append("Tell the user that describing the image needs the vision model; report what OCR found.")
    return described.model_copy(update={"text": "\n\n".join(parts), "structured": None})


CAPABILITY = Capability(
    name="vision",
    server="vision",
    primary_tool="describe_image",
    fallback_tool="extract_text",
    label="Vision",
    icon="🖼️",
    prompt=(
        "You are the vision agent. Use describe_image for questions about an image; when no vision "
        "model is available, use extract_text (OCR) and image_info and say what needs the vision model."
    ),
    model_description="the vision agent alone (images as data: URLs in image_url parts)",
    server_description="describe images, read their text (OCR)",
    routing_examples=(
        "look at this picture and tell me what breed the dog is",
        "read the numbers on this receipt photo",
        "what does the whiteboard in this photo say",
        "extract the table from this scanned invoice image",
        "is there anything wrong in this x-ray image",
        "translate the sign in this photo",
        "describe the UI in this screenshot",
        "what colors are used in this logo image",
        "caption this image",
        "what is in this image",
        "describe the attached photo",
        "read the text in this screenshot",
        "what does this diagram show",
        "OCR this scanned page",
        "what error is shown in the screenshot",
        "how many people are in the picture",
        "transcribe the handwriting in the photo",
        "what chart is this and what does it show",
        "identify the objects in this image",
    ),
    summary="images, screenshots, OCR",
    route_hint="an image",
    sample_prompts=(
        "Read the text in the image I attached.",
        "Describe the attached diagram.",
    ),
    needs=Role.VISION,
    takes_images=True,
    medium=IMAGE_WORDS,
    failure_hint="Attach the image to your message (the UI's image picker, or `ask --image PATH`).",
    renderers={
        "describe_image": lambda d: str(d.get("answer") or ""),
        "extract_text": lambda d: f"Text in the image:\n{d.get('text')}" if d.get("text") else "",
    },
    after={"describe_image": read_without_a_vision_model},
)
