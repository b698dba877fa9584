"""Id-like tool arguments must come from the user, never from a model's imagination.

A small model filling a forced tool call invents plausible ids (a source id that is a URL, a graph
named "my_graph", an entity the user never mentioned), and the tool's "not found" error then became the
turn's whole answer. A small model's id-like argument is kept only when its value appears in what the
user wrote, in an earlier answer, or in a tool result of this turn; what the user chose in a front end
(selected sources, attached images) is fixed by `policy.fixed_arguments` and always kept. A large model's
ids are tried as given (it resolves "the warranty document" to an id it looked up). Any model's call that
fails on an id is retried once without the ids it chose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, SystemMessage, ToolMessage

from agents.capabilities import CAPABILITIES
from agents.mcp_pool import ToolOutcome

ID_PARAMS = (
    "source_ids",
    "source_id",
    "thread_id",
    "collection",
    "entity",
    "target",
    "paths",
    "path",
    "image_path",
    "image_paths",
)

# Chosen for the ids they came with ("neighbours" of an entity): dropped along with those ids.
DEPENDENT = ("mode",)
# A tiny model's paraphrase of the request loses the words a search needs, and its task for the coder is
# junk ("python_function-702918365"): the user's own words go in instead.
REQUEST_PARAMS = ("query", "question", "task")
FILL_WHEN_EMPTY: tuple[str, ...] = ()

SMALL_MODEL_HINT = (
    "The local profile's tiny model often fills tool arguments badly: for requests like this, point the "
    "roles at a larger model (`SPARK_AGENTS_SUPERVISOR_URL`, README “Profiles and models”)."
)


@dataclass
class Grounded:
    args: dict[str, Any]
    dropped: dict[str, Any] = field(default_factory=dict)  # parameter -> the model's ungrounded value

    def shown(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in self.dropped.items())

    def note(self) -> str:
        """For an id dropped before the call."""
        return f"Ignored {self.shown()}: nothing in the conversation names it." if self.dropped else ""


def evidence_text(messages: Iterable[BaseMessage]) -> str:
    """Everything an id may legitimately come from: the conversation and this turn's tool results (not
    failed ones: an error message quotes the bad id back)."""
    parts = [
        str(m.content)
        for m in messages
        if not isinstance(m, SystemMessage) and not (isinstance(m, ToolMessage) and m.status == "error")
    ]
    return "\n".join(parts).casefold()


def with_request(args: dict[str, Any], properties: dict[str, Any], request: str) -> dict[str, Any]:
    """A small model's forced call: the user's own words as the query, the question and the task."""
    args = dict(args)
    for name in REQUEST_PARAMS:
        if name in properties:
            args[name] = request
    for name in FILL_WHEN_EMPTY:
        if name in properties and not str(args.get(name) or "").strip():
            args[name] = request
    return args


def _grounded(value: Any, evidence: str) -> bool:
    return isinstance(value, str) and bool(value.strip()) and value.strip().casefold() in evidence


def ground(args: dict[str, Any], evidence: str, fixed: Iterable[str] = ()) -> Grounded:
    """`args` without the id-like values `evidence` does not contain; `fixed` names parameters the user's
    own choices set, which are kept as they are."""
    kept, dropped = dict(args), {}
    for name in ID_PARAMS:
        if name not in kept or name in fixed or kept[name] in (None, "", []):
            continue
        value = kept[name]
        if isinstance(value, list):
            good = [v for v in value if _grounded(v, evidence)]
            if len(good) == len(value):
                continue
            dropped[name] = [v for v in value if v not in good]
            if good:
                kept[name] = good
            else:
                del kept[name]
        elif not _grounded(value, evidence):
            dropped[name] = value
            del kept[name]
    if dropped:
        for name in DEPENDENT:
            kept.pop(name, None)
    return Grounded(kept, dropped)


def retry_without_ids(args: dict[str, Any], fixed: Iterable[str] = ()) -> Grounded | None:
    """The one retry after a failed call: every id-like value the model chose removed — when there was
    one, and when text is left to act on (a search's query; an entity alone leaves nothing to ask)."""
    fixed = set(fixed)
    dropped = {k: v for k, v in args.items() if k in ID_PARAMS and k not in fixed and v not in (None, "", [])}
    gone = set(dropped) | set(DEPENDENT)
    kept = {k: v for k, v in args.items() if k not in gone}
    asks = any(isinstance(v, str) and v.strip() for k, v in kept.items() if k not in ID_PARAMS)
    return Grounded(kept, dropped) if dropped and asks else None


def first_line(tool: str, outcome: ToolOutcome) -> str:
    text = outcome.text.strip().removeprefix("Error executing tool ").removeprefix(f"{tool}: ")
    return (text.splitlines() or ["no details"])[0][:300]


def retry_note(retry: Grounded, tool: str, failed: ToolOutcome) -> str:
    """For ids dropped after the call failed on them."""
    return f"({tool} failed with {retry.shown()} — {first_line(tool, failed)} — so I tried again without it.)"


def failure_answer(agent: str, tool: str, outcome: ToolOutcome, small: bool) -> str:
    """What a user reads when a tool failed and no answer came of it: what failed, and what to do."""
    hint = CAPABILITIES[agent].failure_hint if agent in CAPABILITIES else ""
    parts = [f"I could not complete this with {tool}: {first_line(tool, outcome)}", hint]
    if small:
        parts.append(SMALL_MODEL_HINT)
    return "\n\n".join(p for p in parts if p)
