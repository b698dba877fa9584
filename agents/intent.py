"""A small model's forced tool call: which tool the request asks for, and the arguments its words fix.

SmolLM2-135M calls a tool only when one is forced, and it fills arguments badly (`{"task":
"python_function-702918365"}`), so forcing the capability's primary tool made "Run print(6 * 7)" generate
unrelated code and "Delete the source <id>" search. Here the forced tool is chosen by the request's
intent — a tool named in it, else the tool whose examples (agents/capabilities/ `tool_examples`) an
embedding of the request is closest to, the same way the agent router works — and the arguments the
user's own words determine (the code to run, the source id to delete) replace what the model wrote.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.messages import AIMessage, BaseMessage
from mcp.types import Tool

from agents import grounding, policy
from agents.capabilities import CAPABILITIES
from agents.mcp_pool import ToolOutcome
from mcp_servers.sdk import input_schema
from serving.embeddings import Embedder

MIN_MARGIN = 0.05  # how much closer than the primary tool another tool must be to be chosen instead
TOP_K = 2  # examples per tool averaged into its score

FENCED = re.compile(r"```[ \t]*[\w+-]*[ \t]*\n(?P<code>.*?)```", re.S)
INLINE = re.compile(r"`(?P<code>[^`\n]+)`")
RUN_VERB = re.compile(r"\b(run|execute|exec|eval|evaluate)\b", re.I)
# "Run print(6 * 7)", "please execute this python: x = 1": the rest of the message after the verb
AFTER_VERB = re.compile(
    r"^\s*(please\s+)?(run|execute|exec|evaluate)\s+(this|the following|it)?\s*"
    r"(python|code|script|program|snippet)?\s*:?\s*(?P<code>.+?)\s*$",
    re.I | re.S,
)
# a call or an assignment somewhere in a sentence: "What does print(6 * 7) print? Run it."
CODE_EXPR = re.compile(r"[A-Za-z_][\w.]*\([^()\n]*(\([^()\n]*\)[^()\n]*)*\)|^\s*[A-Za-z_]\w*\s*=\s*\S.*$", re.M)
SOURCE_ID = re.compile(r"(?<![\w-])(?=[0-9a-f]*\d)[0-9a-f]{6,64}(?![\w-])")


@dataclass(frozen=True)
class Intent:
    """The tool to force and the arguments the user's words fix (they override the model's)."""

    tool: str
    args: dict[str, Any]
    why: str  # "named in the request", "similarity 0.61 (primary 0.48)", "primary tool"


def named_tool(request: str, names: Iterable[str]) -> str | None:
    """A tool the user names in so many words ("use the run_python tool")."""
    for name in names:
        if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", request):
            return name
    return None


def code_in(request: str) -> str | None:
    """The code the user wrote: a fenced block, inline code, what follows "run", or a call in a sentence."""
    if m := FENCED.search(request):
        return m["code"].strip("\n") or None
    if m := INLINE.search(request):
        return m["code"].strip()
    if (m := AFTER_VERB.match(request)) and re.search(r"[()=\[\]]|\n", m["code"]):
        return m["code"].strip()
    if RUN_VERB.search(request) and (m := CODE_EXPR.search(request)):
        return m.group(0).strip()
    return None


def last_code_block(messages: Iterable[BaseMessage]) -> str | None:
    """The code of the assistant's latest fenced block ("run it" after the coding agent wrote code)."""
    for m in reversed(list(messages)):
        blocks = list(FENCED.finditer(str(m.content))) if isinstance(m, AIMessage) else []
        if blocks:
            return blocks[-1]["code"].strip("\n") or None
    return None


def source_id_in(request: str) -> str | None:
    """A source id as `sources list` prints it (hex, with a digit in it), or a prefix of one."""
    m = SOURCE_ID.search(request.casefold())
    return m.group(0) if m else None


def source_named(request: str, sources: list[dict[str, Any]]) -> str | None:
    """The id of the one source whose title or file name (with or without its extension) the request
    names ("Delete the garden notes"); None when none does or several do."""
    text = " ".join(request.casefold().split())
    found = set()
    for s in sources:
        path = Path(str(s.get("path") or ""))
        names = {str(s.get("title") or ""), path.name, path.stem}
        if any(len(n) >= 3 and " ".join(n.casefold().split()) in text for n in names):
            found.add(str(s.get("id") or ""))
    return found.pop() if len(found) == 1 and "" not in found else None


def words_fill(tool: Tool, request: str, history: Iterable[BaseMessage] = ()) -> dict[str, Any]:
    """The arguments of `tool` that the user's own words determine."""
    props = input_schema(tool).get("properties", {})
    args: dict[str, Any] = {}
    if "code" in props and "error" not in props:  # beside an error, `code` is what raised it, not what to run
        code = code_in(request) or (last_code_block(history) if RUN_VERB.search(request) else None)
        if code:
            args["code"] = code
    if "source_id" in props and (found := source_id_in(request)):
        args["source_id"] = found
    if "error" in props:
        args["error"] = request
    return args


def missing(tool: Tool, args: dict[str, Any]) -> list[str]:
    """Required parameters with no value: a call without them can only fail."""
    required = input_schema(tool).get("required", [])
    return [name for name in required if args.get(name) in (None, "", [])]


class ToolChooser:
    """Scores a request against each tool's examples with the router's embedding model."""

    def __init__(self, embedder: Callable[[], Embedder]) -> None:
        self._embedder_of = embedder
        self._examples: dict[str, tuple[list[str], np.ndarray]] = {}  # agent -> (tool per row, rows)
        self._lock = threading.Lock()

    def _matrix(self, agent: str) -> tuple[list[str], np.ndarray]:
        with self._lock:
            if agent not in self._examples:
                table = CAPABILITIES[agent].tool_examples
                labels = [name for name, examples in table.items() for _ in examples]
                texts = [text for examples in table.values() for text in examples]
                rows = np.asarray(self._embedder_of().embed(texts), dtype=np.float32) if texts else np.zeros((0, 1))
                self._examples[agent] = (labels, _normalize(rows))
            return self._examples[agent]

    def scores(self, agent: str, request: str) -> dict[str, float]:
        """Each tool with examples: the mean similarity of its `TOP_K` closest examples to the request."""
        labels, rows = self._matrix(agent)
        if not labels:
            return {}
        query = _normalize(np.asarray(self._embedder_of().embed([request[:2000]]), dtype=np.float32))[0]
        per_tool: dict[str, list[float]] = {}
        for label, sim in zip(labels, rows @ query, strict=True):
            per_tool.setdefault(label, []).append(float(sim))
        return {name: float(np.mean(sorted(s)[-TOP_K:])) for name, s in per_tool.items()}

    def choose(
        self, agent: str, tools: list[Tool], primary: str | None, request: str, history: Iterable[BaseMessage] = ()
    ) -> Intent | None:
        """The tool to force for this request (None: nothing to force), with the arguments the words fix."""
        by_name = {t.name: t for t in tools}
        name = named_tool(request, by_name)
        why = "named in the request"
        if name is None:
            scores = {n: s for n, s in self.scores(agent, request).items() if n in by_name}
            base = scores.get(primary or "", max(scores.values(), default=0.0))
            best = max(scores, key=scores.__getitem__, default=None)
            if best is not None and best != primary and scores[best] - base >= MIN_MARGIN:
                name, why = best, f"similarity {scores[best]:.2f} (primary {base:.2f})"
            else:
                name, why = primary, "primary tool"
        if name is None or name not in by_name:
            return None
        return Intent(tool=name, args=words_fill(by_name[name], request, history), why=why)


def _normalize(m: np.ndarray) -> np.ndarray:
    if m.size == 0:
        return m
    return m / np.clip(np.linalg.norm(m, axis=1, keepdims=True), 1e-9, None)


@dataclass(frozen=True)
class Settled:
    """A small model's forced call once the user's words are in and its invented ids are out."""

    args: dict[str, Any]
    missing: list[str]  # required parameters nothing in the conversation fills
    notes: list[str]


def settle(
    tool: Tool, args: dict[str, Any], user_text: str, history: list[BaseMessage], fixed: dict[str, Any]
) -> Settled:
    """The model's arguments with the request's words over them, the user's choices (`fixed`) over those,
    and ids nothing in the conversation names dropped — before an approval card shows them."""
    props = input_schema(tool).get("properties", {})
    evidence = grounding.evidence_text(history)
    words = words_fill(tool, policy.own_request(user_text), history)
    required = set(input_schema(tool).get("required", []))
    own = {  # not the "files" it made up; its ids are grounded below, with a note
        k: v for k, v in args.items() if k in required or k in grounding.ID_PARAMS or _named(v, evidence)
    }
    merged = {**grounding.with_request(own, props, user_text), **words, **fixed}
    grounded = grounding.ground(merged, evidence, fixed)
    notes = [grounded.note()] if grounded.dropped else []
    return Settled(grounded.args, missing(tool, grounded.args), notes)


def _named(value: Any, evidence: str) -> bool:
    """An optional argument a small model may keep: a number or flag, or words the conversation holds (its
    language "php" for a Python question, its `files` for a one-line print are its own inventions)."""
    if isinstance(value, bool | int | float) or value is None:
        return True
    return isinstance(value, str) and value.strip().casefold() in evidence


def lacking_outcome(tool: Tool, names: list[str], note: str = "") -> ToolOutcome:
    """What the turn reports instead of a call that lacks a required argument nobody named."""
    what = ", ".join(names)
    text = f"it needs {what}, and nothing in your message names it." + (f" {note}" if note else "")
    return ToolOutcome(text=text, is_error=True)
