"""Loa's own state: units and their chats, who is in them, the outbox, answers, the audit log.

The database is the source of truth for what must be sent and what was sent; the campaign file
is the source of truth for what the campaign says. Times are stored in UTC.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from bot.address import Address
from bot.store.payloads import Announcement, Unconfirmed


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _code_key(context: Any) -> str:
    return str(context.get_current_parameters()["code"]).lower()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no time zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware one")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment: dt.datetime = value  # what both drivers give for a DateTime column
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class Base(DeclarativeBase):
    # Named constraints, so migrations can drop and alter them on every backend.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


class Unit(Base):
    """A school, a ward committee, a centre: whoever must receive messages and answer."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # as the office wrote it
    # The code in lower case: "TH-UPPER" and "th-upper" are one unit, however it is typed. A
    # column rather than an index on lower(code), which SQLite cannot reflect (batch migrations
    # would drop it unseen).
    code_key: Mapped[str] = mapped_column(String(64), unique=True, default=_code_key)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))  # an audience code of the campaign
    parent: Mapped[str | None] = mapped_column(String(255))
    registration_code: Mapped[str] = mapped_column(String(16), unique=True)  # one-time
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @validates("code")
    def _keep_code_key(self, _: str, code: str) -> str:
        self.code_key = code.lower()
        return code


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


class Chat(Base):
    """A chat the bot has met on one platform; bound to a unit once someone registers it."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))  # the platform's chat id, as text
    kind: Mapped[str] = mapped_column(String(16))  # ChatKind
    title: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)  # false once the bot is removed
    registered_at: Mapped[dt.datetime | None]
    left_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def address(self) -> Address:
        """Where the chat is: its platform and the platform's id for it."""
        return Address(self.platform, self.external_id)


class Role(StrEnum):
    COORDINATOR = "coordinator"  # listed in LOA_ADMINS
    STAFF = "staff"  # anyone writing in a unit's chat


class Member(Base):
    """Someone seen writing in a chat, with the name to show in answers and the audit log."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))  # the platform's user id, as text
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.STAFF)
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher; back to pending if it dies
    SENT = "sent"
    FAILED = "failed"  # gave up: the chat is unreachable or retries ran out
    MISSED = "missed"  # fell due while the bot was down and was no longer useful
    CANCELLED = "cancelled"


class Delivery(Base):
    """The outbox: one row per message to one chat, unique by its idempotency key."""

    __tablename__ = "deliveries"
    __table_args__ = (  # migration 0008: counted from the indexes alone
        Index(
            "ix_deliveries_campaign_kind_reference_status",
            "campaign",
            "kind",
            "reference",
            "status",
        ),
        Index("ix_deliveries_status_due_at_campaign_kind", "status", "due_at", "campaign", "kind"),
        # migration 0011: a commune's rows, read by unit
        Index("ix_deliveries_unit_id_campaign_status", "unit_id", "campaign", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)  # campaign:kind:reference:chat
    campaign: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))  # bot.campaign.timeline.Kind
    reference: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    due_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]  # sent late until then, else missed; None: any time
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # e.g. an announcement's text
    text: Mapped[str | None] = mapped_column(Text)  # as sent
    message_id: Mapped[str | None] = mapped_column(String(64))  # the platform's, once sent
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    claim: Mapped[int | None]  # the sender epoch that claimed it (`SenderEpoch`): fences records

    @property
    def announcement(self) -> Announcement | None:
        """The coordinator's announcement the row carries; None for the campaign's own rows."""
        if self.payload is None or "text" not in self.payload:
            return None
        return Announcement.from_json(self.payload)


class SenderEpoch(Base):
    """One row: the epoch of the process that sends now. Each `loa run` takes the next one at
    start, so a process that lost its instance lock can neither claim nor record any more."""

    __tablename__ = "sender_epoch"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[int] = mapped_column(default=0)


class PlanMark(Base):
    """What a campaign's last full plan of the outbox was made from (`bot.delivery.replan`): a
    restart with the same campaign and the same chats need not read the whole outbox again."""

    __tablename__ = "plan_marks"

    campaign: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    planned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliveryAttempt(Base):
    """Every try at sending a delivery, successful or not."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # sent, retry, unreachable, failed
    detail: Mapped[str | None] = mapped_column(Text)


class Answer(Base):
    """One unit's figure for one row of the statistics form; a correction replaces, never erases."""

    __tablename__ = "answers"
    __table_args__ = (  # migration 0008: a unit's current answers counted from the index
        Index("ix_answers_current", "campaign", "unit_id", "item", "replaced_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(String(128))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(16))  # the form row's code, e.g. "1.2"
    value: Mapped[Any] = mapped_column(JSON)  # [3, 120] for a pair, [1500000], or "text"
    raw: Mapped[str] = mapped_column(Text)  # what was written
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(96))  # platform:user_id
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    replaced_at: Mapped[dt.datetime | None]  # set when a later answer corrects this one


class PromptKind(StrEnum):
    SECTION = "section"  # a part of the form, sent on schedule: answered as `MÃ: SỐ` lines
    ITEM = "item"  # one row, asked by /baocao: a bare figure answers it, then the next is asked
    CONFIRM = "confirm"  # an unusual figure read back: "đúng" records it


class Prompt(Base):
    """A message of the bot that asked a unit for figures: a reply to it answers its items.

    `pending` holds an unusual figure waiting for the sender's "đúng" before it is recorded.
    """

    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))  # the platform's
    kind: Mapped[str] = mapped_column(String(16))  # PromptKind
    items: Mapped[list[str]] = mapped_column(JSON)  # form row codes, in the order asked
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # `Unconfirmed.to_json()`
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def unconfirmed(self) -> Unconfirmed | None:
        """The figures a read-back waits to have confirmed; None when it waits for none."""
        return Unconfirmed.from_json(self.pending) if self.pending is not None else None


class AuditEntry(Base):
    """Who did what: registrations, refusals, broadcasts, removals."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(96))  # platform:user_id, "cli" or "loa"
    action: Mapped[str] = mapped_column(String(48))
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class HandledUpdate(Base):
    """An inbound message Loa has acted on: a platform's resend of it is acknowledged, not acted
    on again. Kept for days (`handled.KEEP`); a resend comes within minutes."""

    __tablename__ = "handled_updates"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))  # the platform's ids, as text
    message_id: Mapped[str] = mapped_column(String(64))
    handled_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class WebTicket(Base):
    """A secret that opens the web for someone: a one-time sign-in link (`/login/<token>`), a
    signed-in session (the cookie), or a download link sent to a chat. Only the token's SHA-256
    is kept: a copy of the database opens nothing."""

    __tablename__ = "web_tickets"
    __table_args__ = (Index("ix_web_tickets_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    kind: Mapped[str] = mapped_column(String(16))  # TicketKind
    holder: Mapped[str] = mapped_column(String(96))  # the coordinator, platform:id
    scope: Mapped[str | None] = mapped_column(String(255))  # what a download link opens
    csrf: Mapped[str | None] = mapped_column(String(64))  # a session's form token
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]  # a sign-in link is spent once followed


class Photo(Base):
    """A photo a unit sent of its week (issue 20): the JPEG lives on disk under the photos
    folder as `<file[:2]>/<file>`, named by its content's SHA-256; this row says whose it is.
    A removal only marks the row: the file goes when no live row uses it."""

    __tablename__ = "photos"
    __table_args__ = (Index("ix_photos_campaign_unit", "campaign", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(String(128))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    file: Mapped[str] = mapped_column(String(80))  # sha256 hex + ".jpg"
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int]  # bytes of the stored JPEG
    caption: Mapped[str] = mapped_column(Text, default="")
    sender: Mapped[str] = mapped_column(String(96))  # platform:user_id, or "web"
    sender_name: Mapped[str] = mapped_column(String(255), default="", server_default="")
    source: Mapped[str] = mapped_column(String(16))  # "telegram", "zalo" or "web"
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[dt.datetime | None]
