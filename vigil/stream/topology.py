"""The stream of items, its durable consumer and the stream of dead letters: made if missing,
brought to the settings if not, by every worker at start (so a worker alone sets up a new server).

Why work-queue retention. The stream is a transport, not a record: the database keeps every item and
decision (``GET /v1/content/{id}``), so an item acknowledged once a decision committed need not stay
on the server's disk. Work-queue retention deletes it at that moment, so the disk holds the backlog
and nothing more; limits retention would keep every item until an age or size limit, a second copy
of hostile content with a retention of its own to justify. A work-queue stream also refuses a second
consumer whose subjects overlap the first, which keeps the workers on one durable consumer, the one
that spreads items between them. Replaying the stream is not needed to re-decide: retroactive matching
and ``Pipeline.redecide`` work from the database.

Why the server's ``max_deliver`` is unlimited. When a consumer's ``max_deliver`` runs out, the server
stops redelivering and tells no one but an advisory, and in a work-queue stream the item would sit
there for ever. The worker counts deliveries itself (``num_delivered`` of each message) and, on the
last one it allows, publishes a dead letter with the reason before terminating the item.
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError

from vigil.config import Settings

DEAD_LETTER_DAYS = 30  # how long a dead letter stays for someone to look at and republish
MAX_ACK_PENDING = 20_000  # items out with workers at once, all workers together
DUPLICATE_WINDOW_SECONDS = 120.0  # a platform retrying a publish with the same Nats-Msg-Id within it


class TopologyError(ValueError):
    """The stream settings contradict each other; the message names the settings."""


def subject_matches(pattern: str, subject: str) -> bool:
    """Whether NATS would deliver ``subject`` to a subscription on ``pattern`` (``*``, ``>``)."""
    want, have = pattern.split("."), subject.split(".")
    for i, part in enumerate(want):
        if part == ">":
            return len(have) > i
        if i >= len(have) or part not in ("*", have[i]):
            return False
    return len(have) == len(want)


def subject_prefix(pattern: str) -> str:
    """The literal part of an items subject before its wildcards: ``vigil.items.>`` -> ``vigil.items``."""
    tokens = pattern.split(".")
    while tokens and tokens[-1] in ("*", ">"):
        tokens.pop()
    return ".".join(tokens)


def results_subject(settings: Settings, item_subject: str) -> str:
    """Where the decision of an item published on ``item_subject`` goes: the results prefix and the
    item subject's tokens after the items prefix (``vigil.items.eu-1`` -> ``vigil.decisions.eu-1``),
    so that a platform publishing on its own shard listens on its own shard."""
    prefix = subject_prefix(settings.stream_items_subject)
    if prefix and item_subject.startswith(prefix + "."):
        return f"{settings.stream_results_prefix}.{item_subject[len(prefix) + 1 :]}"
    return settings.stream_results_prefix


def check_subjects(settings: Settings) -> None:
    """Refuse subjects that would feed the workers their own output: a result or a dead letter
    captured by the items stream would come back as an item, for ever."""
    items = settings.stream_items_subject
    for name, subject in (
        ("VIGIL_STREAM_RESULTS_PREFIX", settings.stream_results_prefix + ".x"),
        ("VIGIL_STREAM_RESULTS_PREFIX", settings.stream_results_prefix),
        ("VIGIL_STREAM_DEAD_SUBJECT", settings.stream_dead_subject),
    ):
        if subject_matches(items, subject):
            raise TopologyError(
                f"{name} {subject.removesuffix('.x')!r} falls under VIGIL_STREAM_ITEMS_SUBJECT {items!r}:"
                " the workers would read their own output as items; choose subjects apart"
            )
    if any(c in settings.stream_dead_subject for c in "*> "):
        raise TopologyError(f"VIGIL_STREAM_DEAD_SUBJECT {settings.stream_dead_subject!r} must be one subject")


@dataclass(frozen=True, slots=True)
class Topology:
    """The names a worker uses once the stream and consumer exist."""

    stream: str
    dead_stream: str
    consumer: str


def items_stream(settings: Settings) -> StreamConfig:
    """The items stream: file storage (a server restart keeps the backlog), work-queue retention,
    messages no larger than the API's largest body."""
    return StreamConfig(
        name=settings.stream_name,
        description="content items for vigil worker (docs/stream.md)",
        subjects=[settings.stream_items_subject],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        # a full server refuses new items (the publisher sees it) instead of dropping old ones unread
        discard=DiscardPolicy.NEW,
        max_msg_size=settings.max_body_bytes,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


def dead_stream(settings: Settings) -> StreamConfig:
    """Dead letters, kept (limits retention) for ``DEAD_LETTER_DAYS`` to be read and republished."""
    return StreamConfig(
        name=f"{settings.stream_name}_DEAD",
        description="items vigil worker could not decide, with the reason in the Vigil-Reason header",
        subjects=[settings.stream_dead_subject],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=DEAD_LETTER_DAYS * 86_400.0,
        # a dead letter carries the refused message whole, which may be as large as an item, plus headers
        max_msg_size=settings.max_body_bytes + 4096,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


def worker_consumer(settings: Settings) -> ConsumerConfig:
    """The durable pull consumer every worker binds to: explicit acks, redelivery after the ack wait."""
    return ConsumerConfig(
        name=settings.stream_consumer,
        durable_name=settings.stream_consumer,
        description="vigil worker",
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=settings.stream_ack_wait_seconds,
        max_deliver=-1,  # the worker dead-letters on its last allowed delivery (module docstring)
        filter_subject=settings.stream_items_subject,
        max_ack_pending=MAX_ACK_PENDING,
    )


async def _create_or_update(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        # creating a stream that exists with the same configuration succeeds: the common case
        await js.add_stream(config)
    except BadRequestError:
        # it exists with another configuration (an operator changed a setting): bring it to this one;
        # a change the server cannot make (retention, storage) fails here with its reason
        await js.update_stream(config)


async def ensure_topology(js: JetStreamContext, settings: Settings) -> Topology:
    """Make the items stream, the dead-letter stream and the consumer exist as ``settings`` say,
    idempotently: any number of workers may run this at once."""
    check_subjects(settings)
    items, dead = items_stream(settings), dead_stream(settings)
    await _create_or_update(js, items)
    await _create_or_update(js, dead)
    # CONSUMER.CREATE with a name creates the consumer, or updates it where the change is allowed
    await js.add_consumer(settings.stream_name, worker_consumer(settings))
    return Topology(str(items.name), str(dead.name), settings.stream_consumer)
