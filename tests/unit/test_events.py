"""The two vocabularies of vigil/domain/events.py are the only ones: every webhook event Vigil can
send is an ``EventType`` documented in docs/webhooks.md, and no audit action is written by hand."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from vigil.domain.events import AuditAction, EventType
from vigil.domain.orders import OrderState

ROOT = Path(__file__).resolve().parents[2]
VIGIL = ROOT / "vigil"
VOCABULARY = VIGIL / "domain" / "events.py"
EMITTER = VIGIL / "enforce" / "events.py"


def _trees() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(VIGIL.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _calls(tree: ast.Module, name: str) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if called == name:
                yield node


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"


def _documented_event_types() -> set[str]:
    page = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    table = page.split("## Other events", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", table, flags=re.MULTILINE))


def test_every_event_type_is_in_the_table_of_docs_webhooks() -> None:
    assert _documented_event_types() == {t.value for t in EventType} - {EventType.ENFORCEMENT_REQUESTED}
    page = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    assert "## The event" in page
    assert f"`{EventType.ENFORCEMENT_REQUESTED.value}`" in page


def test_every_event_is_sent_through_emit_with_an_event_type() -> None:
    # the outbox is written in one place, and every event that reaches it names an EventType
    enqueued = [_where(p, c) for p, tree in _trees() if p != EMITTER for c in _calls(tree, "enqueue")]
    assert not enqueued, f"events put in the outbox without vigil.enforce.events.emit: {enqueued}"
    untyped = [
        _where(path, call)
        for path, tree in _trees()
        if path != EMITTER
        for call in _calls(tree, "emit")
        if not (
            len(call.args) >= 2
            and isinstance(call.args[1], ast.Attribute)
            and isinstance(call.args[1].value, ast.Name)
            and call.args[1].value.id == "EventType"
            and call.args[1].attr in EventType.__members__
        )
    ]
    assert not untyped, f"emit() called without an EventType member: {untyped}"


def test_no_audit_action_or_event_type_is_written_outside_the_vocabulary() -> None:
    spelled = {a.value for a in AuditAction} | {t.value for t in EventType}
    by_hand = [
        f"{_where(path, node)}: {node.value!r}"
        for path, tree in _trees()
        if path != VOCABULARY
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in spelled
    ]
    assert not by_hand, f"use AuditAction / EventType (vigil/domain/events.py): {by_hand}"


def test_every_audit_entry_names_its_action_from_the_enum() -> None:
    # a new action written as a string (or an f-string) at the call site is not in the enum yet
    written: list[str] = []
    for path, tree in _trees():
        for call in _calls(tree, "append"):
            action = next((k.value for k in call.keywords if k.arg == "action"), None)
            if action is None and len(call.args) == 6:
                action = call.args[1]
            if isinstance(action, ast.Constant | ast.JoinedStr):
                written.append(f"{_where(path, call)}: {ast.unparse(action)}")
    assert not written, f"audit actions written by hand; add them to AuditAction: {written}"


def test_every_order_state_has_its_audit_action() -> None:
    for state in OrderState:
        assert AuditAction.order_moved(state).value == f"order.{state.value}"


# The spelling stored in audit chains (hash-linked) and read by platforms' receivers: an action or
# event type is added here and to the enum together, and never renamed.
STORED_ACTIONS = (
    "appeal.decided",
    "appeal.received",
    "authority.deactivated",
    "authority.key_rotated",
    "authority.reactivated",
    "authority.registered",
    "bank.created",
    "bank.disabled",
    "bank.enabled",
    "bank.hashes_added",
    "case.closed_by_order",
    "case.decided",
    "case.escalated",
    "case.opened",
    "console.signed_in",
    "console.signed_out",
    "daily_figures.rebuilt",
    "decision.created",
    "evidence.deleted",
    "evidence.preserved",
    "evidence.read",
    "evidence.rotated",
    "flagger.registered",
    "flagger.reinstated",
    "flagger.suspended",
    "hotline.failed",
    "hotline.file_uploaded",
    "hotline.files_sent",
    "hotline.finished",
    "hotline.queued",
    "hotline.submitted",
    "key.created",
    "key.revoked",
    "key.rotated",
    "notice.content_arrived",
    "notice.decided",
    "notice.received",
    "notice.refused",
    "order.answered",
    "order.approved",
    "order.awaiting_clarification",
    "order.clarification_rejected",
    "order.escalated",
    "order.executed",
    "order.in_legal_review",
    "order.partially_executed",
    "order.received",
    "order.refused",
    "order.rejected",
    "order.user_informed",
    "order.verified",
    "policy.applied",
    "preservation.released",
    "statement.issued",
    "statement.rejected",
    "statement.retry",
    "statement.revoked",
    "statement.submitted",
    "statement.superseded",
    "webhook.created",
    "webhook.deactivated",
    "webhook.delivery_retried",
)
EVENT_TYPES = (
    "enforcement.requested",
    "notice.received",
    "content.requested",
    "notice.decided",
    "order.disclosure",
    "order.escalated",
)


def test_audit_actions_and_event_types_keep_their_stored_spelling() -> None:
    assert sorted(a.value for a in AuditAction) == sorted(STORED_ACTIONS)
    assert sorted(t.value for t in EventType) == sorted(EVENT_TYPES)
