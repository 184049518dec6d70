"""The errors more than one layer raises or catches, in one place.

- `Invalid` (with its `Problem`s): a file or setting that cannot be used. The campaign loader,
  the unit lists, the settings, the store and the channels raise it; the command line and the
  service print it.
- `DatabaseLost`: the store lost its database; the service and the command line stop on it.
- `SendError` and its family, classified by `Fault`: a channel could not send; the dispatcher,
  the replies and the coordinators' exports decide from the fault what to do next.

The core imports nothing from here but these plain types, so this module imports nothing of Loa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

FieldPath = tuple[str | int, ...]  # keys and list indexes from the document root


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: `code` names the wording in messages/errors.yaml."""

    path: FieldPath
    code: str
    ctx: dict[str, Any] = field(default_factory=dict)
    file: str | None = None
    line: int | None = None


class Invalid(Exception):
    """A file that cannot be used, with every problem found in it, in line order."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(problems, key=lambda p: (p.file or "", p.line or 0))


class DatabaseLost(Invalid):
    """This process no longer holds its database: its lock is gone, or its file was deleted.
    Whatever it would send or write now could be sent twice or lost: it must stop."""


class Fault(StrEnum):
    """What a failed send means for the next try: the one classification every sender uses
    (the dispatcher, replies, the parts of a long text), carried by the error as data."""

    WAIT = "wait"  # the platform asked for silence (429): try again after `retry_after`
    TEMPORARY = "temporary"  # network, timeout, 5xx: back off and try again
    DOUBTFUL = "doubtful"  # the chat may be gone or the platform failed (Zalo's 403): retry,
    # and give the chat up only after repeated failures spread over time
    GONE = "gone"  # the chat is gone for the bot: kicked, blocked, deleted
    MOVED = "moved"  # the chat lives at a new address
    PERMANENT = "permanent"  # this message can never be sent as it is


class SendError(Exception):
    """A message could not be sent; `fault` says what that means for the next try."""

    fault: ClassVar[Fault] = Fault.PERMANENT
    retry_after: float | None = None  # seconds the platform asked to wait, when it said


class ChatUnreachable(SendError):
    """The chat is gone for the bot: kicked, blocked, deleted, never started (403, not found)."""

    fault = Fault.GONE


class ChatMaybeGone(SendError):
    """The platform's answer may mean the chat is gone or that it failed itself (Zalo's 403 is
    its internal server error): only repeated failures over time tell."""

    fault = Fault.DOUBTFUL


class ChatAddressChanged(SendError):
    """The chat now lives at `new_chat_id`: send there (and remember it)."""

    fault = Fault.MOVED

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"chat moved to {new_chat_id}")
        self.new_chat_id = new_chat_id


class RetryLater(SendError):
    """The platform asks to wait (429): try again after `retry_after` seconds."""

    fault = Fault.WAIT

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:g}s")
        self.retry_after = retry_after


class TemporaryFailure(SendError):
    """Network error, timeout or 5xx: worth retrying later."""

    fault = Fault.TEMPORARY


class Unsupported(SendError):
    """The platform cannot do this at all (Zalo bots cannot send files)."""
