"""Markdown/HTML markup, removed from labels or masked in place.

Two forms, for two jobs: `strip_markup` gives the plain text of a label (a table cell, a heading, an entity
the model wrote with `**`), and `mask_markup` blanks markup characters to spaces *without changing the
length*, so the sentence rules can read prose that holds links and bold while their spans still point into
the original chunk.
"""

from __future__ import annotations

import re

_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")  # [text](url), ![alt](src)
_IMAGE = re.compile(r"!\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])")  # ![alt](src), ![alt][ref]
_REF_LINK = re.compile(r"\[([^\[\]\n]*)\](?:\[[^\]\n]*\])?(?!\()")  # [text][ref], [text] (a reference)
_AUTOLINK = re.compile(r"<(?:https?://|mailto:)[^>\s]*>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|~~)")
_CODE = re.compile(r"`+")
_UNDERSCORE = re.compile(r"(?<![\w])_(?=\w)|(?<=\w)_(?![\w])")  # _emphasis_, not snake_case
_LEAD = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|(?:[-*+•]|\d{1,3}[.)])\s+)+")
_SPACES = re.compile(r"\s+")


def is_image(text: str) -> bool:
    """Whether a label is only an image (a badge, a chart): it names nothing."""
    return bool(text.strip()) and not _IMAGE.sub("", text).strip()


def strip_markup(text: str) -> str:
    """The plain text of a label: links to their text, tags, emphasis, code ticks, pipes and list/heading
    markers removed, whitespace collapsed."""
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    text = _UNDERSCORE.sub("", text)
    text = _CODE.sub("", text)
    text = _LEAD.sub("", text)
    text = text.replace("|", " ").replace("\\", "")
    return _SPACES.sub(" ", text).strip()


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def mask_markup(text: str) -> str:
    """`text` with markup characters replaced by spaces, same length (spans stay true): a link keeps its
    text, a tag, emphasis marker, code tick or list/heading marker becomes blanks."""

    def link(m: re.Match[str]) -> str:
        inner = m.group(1)
        lead = len(m.group(0)) - len(m.group(0).lstrip("!["))
        return " " * lead + inner + " " * (len(m.group(0)) - lead - len(inner))

    text = _IMAGE.sub(_blank, text)  # an image's alt text is no sentence
    text = _LINK.sub(link, text)
    text = _REF_LINK.sub(link, text)
    text = _AUTOLINK.sub(_blank, text)
    text = _BREAK.sub(lambda m: "." + " " * (len(m.group(0)) - 1), text)  # "**Name**<br>\n text": two sentences
    text = _TAG.sub(_blank, text)
    text = _EMPHASIS.sub(_blank, text)
    text = _UNDERSCORE.sub(_blank, text)
    text = _CODE.sub(_blank, text)
    return re.sub(r"(?m)^[ \t]*(?:#{1,6}[ \t]+|>[ \t]*|(?:[-*+•]|\d{1,3}[.)])[ \t]+)", _blank, text)
