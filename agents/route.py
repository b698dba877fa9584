"""Why the supervisor handed a turn to a specialist, and what it asked of it.

The reason and the task are separate fields: a specialist reads the task, front ends show the note, and
nothing has to tell a router's score from a model's instructions by the look of a string.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Reason(StrEnum):
    REQUESTED = "requested"  # the user chose the agent (`--agent`, the UI's picker, the API's model name)
    ATTACHMENT = "attachment"  # an image came with the message
    ROUTER = "router"  # the embedding router's choice
    PROBE = "probe"  # a capability's probe found the question covered (a search of the user's documents)
    MODEL = "model"  # the supervisor model chose (a JSON choice, or a handoff tool)


class Route(BaseModel):
    agent: str
    reason: Reason
    task: str = ""  # what the supervisor model asked of the specialist, self-contained; empty otherwise
    note: str = ""  # how the handoff is shown (the router's score, the terms the documents cover)

    @staticmethod
    def task_of(saved: object) -> str:
        """The task of a route kept in a thread's state (a checkpoint from before routes had fields: none)."""
        return Route.model_validate(saved).task if isinstance(saved, dict) else ""

    def shown(self) -> str:
        return self.note or self.task or self.reason.value
