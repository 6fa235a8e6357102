"""The tables. Schema changes only through Alembic migrations (``vigil/store/migrations``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite has no time zones; it gets naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(200), default="")
    bound_to: Mapped[str | None] = mapped_column(String(200))  # organisation or authority, per role
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    category: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(100), default="")
    threshold: Mapped[int] = mapped_column(Integer, default=31)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BankHash(Base):
    __tablename__ = "bank_hashes"
    __table_args__ = (
        UniqueConstraint("bank_id", "hash_type", "value", name="uq_bank_hashes_bank_type_value"),
        Index("ix_bank_hashes_type_value", "hash_type", "value"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"))
    hash_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(100), default="", server_default="")
    source_id: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    added_at: Mapped[datetime]
    # a vPDQ hash: its canonical frame list (``value`` is then the SHA-256 of it, to index by)
    frames: Mapped[str | None] = mapped_column(Text)


class PolicyVersion(Base):
    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("policy_id", "version", name="uq_policy_versions_id_version"),
        # exactly one version of a policy is in force: a second writer's row is refused here,
        # whatever it read before (vigil.store.policies.apply_policies answers it as a conflict)
        Index(
            "uq_policy_versions_one_in_force",
            "policy_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    policy_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class ContentItem(Base):
    __tablename__ = "content_items"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the platform's content id
    kind: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(200), index=True)
    channel_id: Mapped[str | None] = mapped_column(String(200), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    reach: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(index=True)
    # signals read from the media bytes at intake (nudity, provenance): the bytes are not kept
    media_signals: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class ContentHash(Base):
    """Hashes of the media of content Vigil has seen (the media itself is never stored)."""

    __tablename__ = "content_hashes"
    __table_args__ = (Index("ix_content_hashes_type_value", "hash_type", "value"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    content_id: Mapped[str] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    media_id: Mapped[str] = mapped_column(String(200))
    hash_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))
    quality: Mapped[int | None] = mapped_column(Integer)  # PDQ quality
    frame_seconds: Mapped[float | None] = mapped_column(Float)  # a video frame's time in the video


class DecisionRecord(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_subject", "subject_type", "subject_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    content_id: Mapped[str | None] = mapped_column(ForeignKey("content_items.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    strikes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    decision: Mapped[dict[str, Any]]
    signals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(index=True)


class Case(Base):
    """A unit of human review on one subject; at most one open case per subject."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_subject_state", "subject_type", "subject_id", "state"),
        # a queue's open cases by standing priority (the database sorts them; see review/casework.py)
        Index("ix_cases_queue_standing", "queue", "state", "standing"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(200))
    content_id: Mapped[str | None] = mapped_column(ForeignKey("content_items.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    reach: Mapped[int] = mapped_column(BigInteger, default=0)
    deadline: Mapped[datetime | None]
    # the priority without the deadline's part (review/priority.py), kept so queues sort in the database
    standing: Mapped[int] = mapped_column(Integer, default=0)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id"))  # the decision under review
    assignee: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closing_decision_id: Mapped[str | None] = mapped_column(ForeignKey("decisions.id"))
    # an appeal is decided by someone other than the reviewer who took the appealed decision
    excluded_actor: Mapped[str | None] = mapped_column(String(100))


class Appeal(Base):
    """A user's complaint against a decision (DSA Art. 20), decided through a case."""

    __tablename__ = "appeals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id"), index=True)  # the decision appealed
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(200))
    appellant: Mapped[str] = mapped_column(String(200))  # the platform's id of the user who appeals
    statement: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))  # upheld, overturned, changed
    decided_at: Mapped[datetime | None]
    result_decision_id: Mapped[str | None] = mapped_column(ForeignKey("decisions.id"))


class CaseEvent(Base):
    """What happened to a case, in order: opened, joined, claimed, released, escalated, noted, decided."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]]


class OutboxEvent(Base):
    """The transactional outbox: written in the same transaction as the decision it announces."""

    __tablename__ = "outbox_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[str | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    payload: Mapped[str] = mapped_column(Text)  # the exact bytes that are signed and sent
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("outbox_events.id"), index=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AuditRecord(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class UnsealedAuditRecord(Base):
    """An audit event appended but not yet sealed into the chain: no position, no hash.

    Writers insert here without reading or locking anything; the sealer moves these rows, in id
    order, into ``audit_events`` with their ``seq`` and hashes (see ``vigil.store.audit``). The id
    only orders the sealing: an event that commits late gets a later position than its id suggests.
    """

    __tablename__ = "audit_unsealed"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as it will be hashed


class AuditChainHead(Base):
    """The last sealed event's position and hash: one row, whose row lock admits one sealer."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A point up to which the chain was verified intact: the next verification starts here, after
    checking that the event at ``seq`` still has ``hash``."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(32))  # ISO 8601 UTC, as the events' own ``at``
    from_seq: Mapped[int] = mapped_column(BigInteger)  # the first event this verification walked
    events_checked: Mapped[int] = mapped_column(BigInteger)
    full: Mapped[bool] = mapped_column(Boolean)  # walked from the genesis, not from a checkpoint


class RetroJob(Base):
    """Retroactive matching of the content seen so far against hashes newly added to a bank."""

    __tablename__ = "retro_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    first_hash_id: Mapped[int] = mapped_column(BigInteger)  # the new bank hashes: first..last id
    last_hash_id: Mapped[int] = mapped_column(BigInteger)
    content_cursor: Mapped[int] = mapped_column(BigInteger)  # content hashes up to here are done
    content_last: Mapped[int] = mapped_column(BigInteger)  # ... and the job ends here
    matched: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # the process matching its next chunk has it until then (vigil/store/retro.py, claim_next_job)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)


class TrustedFlagger(Base):
    """An organisation awarded trusted-flagger status (DSA Art. 22); its keys are bound to its id."""

    __tablename__ = "trusted_flaggers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    expertise: Mapped[list[str]] = mapped_column(JSON)  # the categories its status covers
    coordinator: Mapped[str] = mapped_column(String(200))  # the Digital Services Coordinator that awarded it
    contact_email: Mapped[str] = mapped_column(String(320))
    state: Mapped[str] = mapped_column(String(16))
    suspended_at: Mapped[datetime | None]
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Notice(Base):
    """A report of content by a user (relayed by the platform) or a trusted flagger (DSA Art. 16)."""

    __tablename__ = "notices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # no foreign key: a notice may wait for an item the platform has not sent yet
    content_id: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str | None] = mapped_column(String(2000))
    category: Mapped[str] = mapped_column(String(32))  # the illegality alleged
    legal_ground: Mapped[str | None] = mapped_column(String(500))
    explanation: Mapped[str] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_email: Mapped[str | None] = mapped_column(String(320))
    good_faith: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))  # notice or trusted_flagger
    flagger_id: Mapped[str | None] = mapped_column(ForeignKey("trusted_flaggers.id"), index=True)
    submitted_by: Mapped[str] = mapped_column(String(100))  # the key that sent it
    received_at: Mapped[datetime] = mapped_column(index=True)
    deadline: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    decision_id: Mapped[str | None] = mapped_column(ForeignKey("decisions.id"))  # the decision answering it
    decided_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    automated: Mapped[bool | None] = mapped_column(Boolean)  # whether automated means took the decision


class Authority(Base):
    """A registered public authority: who may send orders, of which types, signed with which key."""

    __tablename__ = "authorities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    competence: Mapped[list[str]] = mapped_column(JSON)  # the order types it may issue
    contact_email: Mapped[str] = mapped_column(String(320))
    contact_phone: Mapped[str] = mapped_column(String(64), default="")
    public_key: Mapped[str] = mapped_column(String(100))  # Ed25519, raw 32 bytes in base64
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Order(Base):
    """An authority's order, its clock and its state; the order document is kept as received."""

    __tablename__ = "orders"
    __table_args__ = (
        # an authority's reference names one order: a second submission of it is a replay
        UniqueConstraint("authority_id", "reference", name="uq_orders_authority_reference"),
        Index("ix_orders_state_deadline", "state", "deadline"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    authority_id: Mapped[str] = mapped_column(ForeignKey("authorities.id"), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))  # the issuing authority's
    category: Mapped[str | None] = mapped_column(String(32))
    document: Mapped[dict[str, Any]]  # the order as the authority signed it
    signature: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(index=True)
    clock_started_at: Mapped[datetime]  # receipt, or the arrival of the last clarification
    deadline: Mapped[datetime | None]  # None while the clock is stopped for clarification
    safeguards: Mapped[dict[str, Any]]  # the assessment: flags, auto-execution, senior review
    senior_review: Mapped[bool] = mapped_column(Boolean, default=False)
    executed_at: Mapped[datetime | None]
    effect: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    refusal_ground: Mapped[str | None] = mapped_column(String(32))
    refusal_explanation: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    late: Mapped[bool | None] = mapped_column(Boolean)
    urgency: Mapped[str] = mapped_column(String(16), default="on_track")  # the last escalation raised
    # when the users an executed order touched may be told, once the authority's withholding ends
    user_notice_due_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class OrderEvent(Base):
    """What happened to an order, in order: received, verified, reviewed, approved, executed ..."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]]


class PreservationHold(Base):
    """Content and related data kept for an authority (TCO Art. 6: six months after removal)."""

    __tablename__ = "preservation_holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    content_id: Mapped[str] = mapped_column(ForeignKey("content_items.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    snapshot: Mapped[dict[str, Any]]  # the item, its media hashes and its decisions, as they stood
    preserved_at: Mapped[datetime]
    until: Mapped[datetime] = mapped_column(index=True)
    released_at: Mapped[datetime | None]


# --- accountability: statements of reasons, their submission, daily figures, evidence, hotlines ---


class Statement(Base):
    """A statement of reasons (DSA Art. 17): one per restrictive decision, in the DSA Transparency
    Database's format, validated before it is stored."""

    __tablename__ = "statements"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    puid: Mapped[str] = mapped_column(
        String(500), unique=True
    )  # the platform's unique id in the DSA database
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id"), unique=True)
    content_id: Mapped[str | None] = mapped_column(ForeignKey("content_items.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # in_force, superseded (changed), revoked (overturned)
    superseded_by: Mapped[str | None] = mapped_column(
        String(32)
    )  # the statement of the decision that replaced it
    statement: Mapped[dict[str, Any]]  # the fields the DSA database receives
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class StatementSubmission(Base):
    """A statement's way to the DSA Transparency Database: a durable queue that survives restarts."""

    __tablename__ = "statement_submissions"
    __table_args__ = (Index("ix_statement_submissions_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    statement_id: Mapped[str] = mapped_column(ForeignKey("statements.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16))  # pending, submitted, rejected, not_applicable
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(2000), default="")
    rejection: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the database's reasons, per field
    database_uuid: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class DailyCounter(Base):
    """One figure of one day, kept up to date as decisions, notices, orders and appeals happen, so
    that a day is summarised by reading its counters, not by scanning its decisions. Empty strings
    stand for "not broken down by this"."""

    __tablename__ = "daily_counters"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    metric: Mapped[str] = mapped_column(String(48), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    action: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    source: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    territory: Mapped[str] = mapped_column(String(8), primary_key=True, default="")
    automated: Mapped[str] = mapped_column(String(16), primary_key=True, default="")
    # one figure is spread over a few rows so that concurrent transactions rarely update the same
    # row; readers add the shards up (``vigil.store.daily``)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Evidence(Base):
    """Preserved media, hashes and metadata, encrypted at rest (AES-GCM) and deleted when its
    retention period ends; every read is audited."""

    __tablename__ = "evidence"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    decision_id: Mapped[str | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    content_id: Mapped[str | None] = mapped_column(ForeignKey("content_items.id"), index=True)
    media_id: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16))  # media or metadata
    mime_type: Mapped[str] = mapped_column(String(100), default="")
    key_id: Mapped[str] = mapped_column(String(64))  # which configured key encrypted it
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once deleted
    sha256: Mapped[str] = mapped_column(String(64))  # of the plaintext
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    deleted_at: Mapped[datetime | None]


class HotlineReport(Base):
    """A report to a child-protection hotline (NCMEC CyberTipline), on its way through its steps."""

    __tablename__ = "hotline_reports"
    __table_args__ = (Index("ix_hotline_reports_due", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id"), unique=True)
    content_id: Mapped[str | None] = mapped_column(ForeignKey("content_items.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))  # pending, submitted, finished, failed, retracted
    report_xml: Mapped[str] = mapped_column(Text)
    report_id: Mapped[str | None] = mapped_column(String(64))  # the hotline's id for the report
    file_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class SignInFailure(Base):
    """Failed console sign-ins of one client address (``scope`` ``client``) or one API key id
    (``key``) in one fixed window of the sign-in limit, counted by an atomic upsert so that every
    ``vigil serve`` process on the database shares the count."""

    __tablename__ = "sign_in_failures"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True, index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class SignInFlow(Base):
    """An organisation sign-in (OpenID Connect) between the redirect to the provider and its
    callback: the PKCE verifier and nonce, found by the digest of the ``state`` the browser holds,
    and taken (deleted) once so that a callback is used at most once on any process."""

    __tablename__ = "sign_in_flows"

    state_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ConsoleSessionRecord(Base):
    """A console session: found by the SHA-256 of the random token in the browser's cookie (the
    token itself is never stored), with who signed in (an API key's id, or the person their
    organisation's provider vouched for) and the CSRF token of its forms. Every ``vigil serve``
    process on the database shares it: signing out deletes the row, and so ends the session
    everywhere at once."""

    __tablename__ = "console_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str | None] = mapped_column(String(32), index=True)  # None: signed in as a person
    role: Mapped[str] = mapped_column(String(32))
    bound_to: Mapped[str | None] = mapped_column(String(200))
    issuer: Mapped[str | None] = mapped_column(String(2000))
    subject: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    csrf: Mapped[str] = mapped_column(String(64))
    signed_in_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    ends_at: Mapped[datetime]  # the session's lifetime, whatever its use
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the idle timeout, never past ends_at
    flash_kind: Mapped[str | None] = mapped_column(String(16))
    flash_text: Mapped[str | None] = mapped_column(Text)


class ReviewerDay(Base):
    """One reviewer's wellness setting for one UTC day: whether previews of sensitive queues are
    shown unblurred by default (a new day starts blurred)."""

    __tablename__ = "reviewer_days"

    actor: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    reveal_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)


class ReviewerExposure(Base):
    """A case of a sensitive queue that a reviewer opened on a UTC day (one row however often they
    opened it): the reviewer's exposure count is the number of rows of the day."""

    __tablename__ = "reviewer_exposures"

    actor: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
