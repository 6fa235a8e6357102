"""Authority orders: verified at the door, assessed by the safeguards, executed on the clock.

The life of an order (``vigil.domain.orders`` has the states and the clock arithmetic)::

    received -> verified -> (auto-execution, when the safeguards allow it) -> executed
                         -> in legal review <-> awaiting clarification (the clock stops)
                                            -> executed | partially executed | refused
    executed | partially executed | refused -> answered

An order that fails verification (unknown or inactive authority, bad signature, outside the
authority's competence, a language the platform does not accept, a replayed reference) is not an
order: it is refused at the door with a machine-readable reason, audited, and nothing else happens.

Giving effect to an order is one more decision on the usual path (``Pipeline.record_reviewed``):
recorded, sent to the platform through the outbox, audited. A restriction is global only where the
content also breaks the platform's terms (a policy in force removes it everywhere); otherwise it is
limited to the territory the law invoked reaches: all member states for a terrorist-content removal
order, the order's scope for an order to act, narrowed to the authority's own country when the
order asks for the whole world on a national law. The order is answered once the platform has
confirmed the effect (the webhook was delivered), and the authority reads what was done and when.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.domain.audit import canonical_json
from vigil.domain.content import Content, Subject, SubjectType
from vigil.domain.decisions import (
    Action,
    AutomatedDecision,
    Decision,
    DecisionContext,
    Ground,
    GroundType,
    Source,
)
from vigil.domain.ids import iso, new_id
from vigil.domain.jurisdictions import EU_MEMBER_STATES, GLOBAL, TerritorialScope
from vigil.domain.orders import (
    ORDER_RULES,
    VIGIL_HELD_FIELDS,
    InformationField,
    OrderDocument,
    OrderEffect,
    OrderState,
    OrderTarget,
    OrderType,
    RefusalGround,
    Urgency,
    answered_late,
    check_transition,
    order_deadline,
    time_left,
    urgency,
)
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.intake.authorities import AuthorityInfo, get_authority, signature_valid
from vigil.intake.safeguards import Assessment, LegalConfig, OrderFacts, SafeguardFlag, assess
from vigil.pipeline.service import Pipeline
from vigil.review.cases import close_by_order
from vigil.store import content as content_store
from vigil.store import orders as order_store
from vigil.store import outbox as outbox_store
from vigil.store.audit import AuditLog
from vigil.store.tables import Order
from vigil.transparency import daily

AUTO_ACTOR = "vigil:auto-execution"
# An order is signed shortly before it is sent; one dated further ahead than clock skew explains,
# or so old that its sender should have issued a fresh one, is refused.
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_ORDER_AGE = timedelta(days=30)
MAX_DISCLOSED_ITEMS = 1000  # per account: an order for more is answered in parts by legal staff
LEGAL_ROLES = frozenset({Role.LEGAL, Role.SENIOR_LEGAL})
URGENCY_RANK = {level: rank for rank, level in enumerate(Urgency)}  # Urgency is listed mildest first


class OrderRejectedError(Exception):
    """An order refused at the door: ``status`` and ``code`` are what the HTTP answer carries."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class OrderNotFoundError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Clarification:
    """An authority's answer to a request for clarification, as signed: which order and which
    question it answers, the answer, and corrected targets if any."""

    order_id: str
    question_id: str
    answer: str
    targets: Sequence[OrderTarget] | None


class OrderActionError(ValueError):
    """A legal action the order's state or the safeguards do not allow; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Caller:
    """Who acts on an order: an authority's key (``bound_to`` its id) or a member of legal staff."""

    actor: str
    role: Role
    bound_to: str | None


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    location: str
    content_id: str | None
    status: str  # executed, preserved, not_found, excluded
    decision_id: str | None = None
    actions: tuple[str, ...] = ()
    territorial_scope: str | list[str] | None = None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "content_id": self.content_id,
            "status": self.status,
            "decision_id": self.decision_id,
            "actions": list(self.actions),
            "territorial_scope": self.territorial_scope,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as the API and the legal console show it."""

    id: str
    authority_id: str
    authority_name: str
    country: str
    reference: str
    type: OrderType
    state: OrderState
    document: dict[str, Any]
    received_at: datetime
    clock_started_at: datetime
    deadline: datetime | None
    statutory_deadline: bool
    urgency: Urgency | None
    seconds_left: int | None
    safeguards: dict[str, Any]
    senior_review: bool
    executed_at: datetime | None
    effect: dict[str, Any] | None
    refusal_ground: str | None
    refusal_explanation: str | None
    answered_at: datetime | None
    late: bool | None
    events: tuple[order_store.OrderEventInfo, ...]


def document_to_json(document: OrderDocument) -> dict[str, Any]:
    return {
        "authority_id": document.authority_id,
        "reference": document.reference,
        "type": document.type.value,
        "issued_at": iso(document.issued_at),
        "language": document.language,
        "legal_basis": document.legal_basis,
        "statement_of_reasons": document.statement_of_reasons,
        "category": document.category.value if document.category else None,
        "territorial_scope": document.territorial_scope.to_json(),
        "targets": [{"url": t.url, "content_id": t.content_id} for t in document.targets],
        "accounts": list(document.accounts),
        "information": sorted(f.value for f in document.information),
        "respond_by": iso(document.respond_by) if document.respond_by else None,
        "withhold_user_notice": document.withhold_user_notice,
        "withhold_user_notice_until": (
            iso(document.withhold_user_notice_until) if document.withhold_user_notice_until else None
        ),
        "redress": document.redress,
    }


# the content an order's targets name, and the targets that name nothing Vigil knows
Resolved = tuple[list[Content], list[TargetOutcome]]


def _targets(document: dict[str, Any]) -> list[OrderTarget]:
    return [OrderTarget(t["url"], t["content_id"]) for t in document["targets"]]


class OrderDesk:
    """Receives orders, lets legal staff act on them, and watches their clocks."""

    def __init__(
        self,
        pipeline: Pipeline,
        legal: LegalConfig,
        accepted_languages: frozenset[str],
        clock: Callable[[], datetime],
    ) -> None:
        self.pipeline = pipeline
        self.store = pipeline.store
        self.legal = legal
        self.accepted_languages = accepted_languages
        self.clock = clock

    # --- the door -------------------------------------------------------------------------------

    def receive(
        self,
        caller: Caller,
        body: bytes,
        signature: str | None,
        document: OrderDocument | None,
        problem: str = "",
    ) -> OrderView:
        """Verify and record an order; run it at once where the safeguards allow.

        ``document`` is None when the body could not be read as an order (``problem`` says why): the
        attempt is still refused and audited like any other.
        """
        now = self.clock()
        try:
            with self.store.transaction() as session:
                authority = self._verify(session, caller, body, signature, document, problem, now)
                assert document is not None
                order = self._record(session, caller, authority, body, signature or "", document, now)
                view = self._view(session, order)
        except OrderRejectedError as refused:
            self._audit_rejection(caller, body, document, refused, now)
            raise
        except IntegrityError:
            # the same reference arrived twice at once: the other one was recorded
            replayed = OrderRejectedError(409, "order_replayed", "this order reference was received already")
            self._audit_rejection(caller, body, document, replayed, now)
            raise replayed from None
        return view

    def _verify(
        self,
        session: Session,
        caller: Caller,
        body: bytes,
        signature: str | None,
        document: OrderDocument | None,
        problem: str,
        now: datetime,
    ) -> AuthorityInfo:
        authority = get_authority(session, caller.bound_to or "")
        if authority is None or not authority.active:
            raise OrderRejectedError(
                403,
                "authority_not_registered",
                f"no active authority {caller.bound_to!r} is registered; register with the platform's "
                "point of contact first (see /contact)",
            )
        if not signature:
            raise OrderRejectedError(
                401,
                "signature_missing",
                "sign the request body with the authority's Ed25519 key: 'Vigil-Signature'",
            )
        if not signature_valid(authority.public_key, body, signature):
            raise OrderRejectedError(
                401,
                "signature_invalid",
                "the Vigil-Signature header is not a valid Ed25519 signature of this body by the "
                "authority's registered key",
            )
        if document is None:
            raise OrderRejectedError(422, "invalid_order", problem or "the body is not an order")
        if document.authority_id != authority.id:
            raise OrderRejectedError(
                403,
                "authority_mismatch",
                f"the order names authority {document.authority_id!r} but the key belongs to {authority.id!r}",
            )
        if document.type not in authority.competence:
            raise OrderRejectedError(
                403,
                "outside_competence",
                f"{authority.id} is registered for {', '.join(sorted(t.value for t in authority.competence))}, "
                f"not {document.type.value}",
            )
        if document.language not in self.accepted_languages:
            raise OrderRejectedError(
                422,
                "language_not_accepted",
                f"orders are accepted in {', '.join(sorted(self.accepted_languages))}, not {document.language!r}",
            )
        if document.issued_at > now + MAX_CLOCK_SKEW or document.issued_at < now - MAX_ORDER_AGE:
            raise OrderRejectedError(
                422,
                "order_stale",
                f"issued_at {iso(document.issued_at)} is in the future or more than "
                f"{MAX_ORDER_AGE.days} days old; issue and sign the order again",
            )
        if order_store.reference_taken(session, authority.id, document.reference):
            raise OrderRejectedError(
                409, "order_replayed", f"order {document.reference!r} of {authority.id} was received already"
            )
        return authority

    def _audit_rejection(
        self,
        caller: Caller,
        body: bytes,
        document: OrderDocument | None,
        refused: OrderRejectedError,
        now: datetime,
    ) -> None:
        with self.store.transaction() as session:
            AuditLog(session).append(
                caller.actor,
                "order.rejected",
                "authority",
                caller.bound_to or "",
                {
                    "code": refused.code,
                    "reason": refused.message,
                    "reference": document.reference if document else None,
                    "type": document.type.value if document else None,
                    "body_sha256": hashlib.sha256(body).hexdigest(),
                },
                now,
            )

    def _record(
        self,
        session: Session,
        caller: Caller,
        authority: AuthorityInfo,
        body: bytes,
        signature: str,
        document: OrderDocument,
        now: datetime,
    ) -> Order:
        rule = ORDER_RULES[document.type]
        order = Order(
            id=new_id("ord"),
            authority_id=authority.id,
            reference=document.reference,
            type=document.type.value,
            state=OrderState.RECEIVED.value,
            country=authority.country,
            category=document.category.value if document.category else None,
            document=document_to_json(document),
            signature=signature,
            issued_at=document.issued_at,
            received_at=now,
            clock_started_at=now,
            deadline=order_deadline(now, rule.period, document.respond_by),
            safeguards={},
            senior_review=False,
            executed_at=None,
            effect=None,
            refusal_ground=None,
            refusal_explanation=None,
            answered_at=None,
            late=None,
            urgency=Urgency.ON_TRACK.value,
            user_notice_due_at=None,
            updated_at=now,
        )
        session.add(order)
        session.flush()  # the unique reference is checked here, before anything else is written
        daily.count_order(session, order, now)
        audit = AuditLog(session)
        order_store.add_event(
            session,
            order.id,
            now,
            caller.actor,
            "received",
            {"body_sha256": hashlib.sha256(body).hexdigest()},
        )
        audit.append(
            caller.actor,
            "order.received",
            "order",
            order.id,
            {
                "authority": authority.id,
                "reference": document.reference,
                "type": document.type.value,
                "deadline": iso(order.deadline) if order.deadline else None,
            },
            now,
        )
        self._move(
            session,
            order,
            OrderState.VERIFIED,
            caller.actor,
            now,
            {"signature": "valid", "competence": "yes"},
        )
        resolved = self._resolve(session, order.document)
        assessment = self._assess(order, resolved)
        order.safeguards = assessment.to_json()
        order.senior_review = assessment.senior_review
        if not (assessment.auto_execute and self._auto_execute(session, order, authority, resolved, now)):
            self._move(
                session,
                order,
                OrderState.IN_LEGAL_REVIEW,
                AUTO_ACTOR,
                now,
                {
                    "senior_review": assessment.senior_review,
                    "flags": sorted(f.value for f in assessment.flags),
                },
            )
        return order

    def _auto_execute(
        self, session: Session, order: Order, authority: AuthorityInfo, resolved: Resolved, now: datetime
    ) -> bool:
        """Execute without a person; False when there turns out to be nothing to execute (the
        order's accounts hold no data), which legal staff then look at."""
        try:
            self._execute(
                session, order, authority, resolved, AUTO_ACTOR, now, automated=True, chosen=None, note=""
            )
        except OrderActionError:
            return False
        return True

    def _move(
        self,
        session: Session,
        order: Order,
        target: OrderState,
        actor: str,
        now: datetime,
        detail: dict[str, Any],
    ) -> None:
        check_transition(OrderState(order.state), target)
        order.state = target.value
        order.updated_at = now
        daily.count_order(session, order, now)
        order_store.add_event(session, order.id, now, actor, target.value, detail)
        AuditLog(session).append(actor, f"order.{target.value}", "order", order.id, detail, now)

    @staticmethod
    def _authority_of(session: Session, order: Order) -> AuthorityInfo:
        authority = get_authority(session, order.authority_id)
        if authority is None:  # orders keep their authority: it is deactivated, never deleted
            raise OrderNotFoundError(f"order {order.id} names no registered authority")
        return authority

    def _resolve(self, session: Session, document: dict[str, Any]) -> Resolved:
        """The content each target names, and the targets that name nothing Vigil knows."""
        wanted: list[tuple[OrderTarget, str | None]] = []
        for target in _targets(document):
            content_id = target.content_id or (self.legal.content_id_of(target.url) if target.url else None)
            wanted.append((target, content_id))
        ids = [cid for _, cid in wanted if cid]
        found = {c.id: c for c in content_store.load_contents(session, ids)} if ids else {}
        contents = [found[cid] for _, cid in wanted if cid and cid in found]
        missing = [
            TargetOutcome(t.location, cid, "not_found", reason="no content Vigil knows is at this location")
            for t, cid in wanted
            if not cid or cid not in found
        ]
        return list({c.id: c for c in contents}.values()), missing

    def _assess(self, order: Order, resolved: Resolved) -> Assessment:
        document = order.document
        contents, missing = resolved
        accounts = tuple(document["accounts"])
        facts = OrderFacts(
            type=OrderType(order.type),
            country=order.country,
            legal_basis=document["legal_basis"],
            statement_of_reasons=document["statement_of_reasons"],
            scope_requested_global=document["territorial_scope"] == "global",
            accounts=accounts,
            missing_locations=tuple(m.location for m in missing),
        )
        return assess(facts, self.legal, contents)

    # --- giving effect --------------------------------------------------------------------------

    def _scope(self, order: Order, breaks_terms: bool) -> TerritorialScope:
        """Where a restriction applies: everywhere when the content also breaks the terms, else only
        where the law the order invokes reaches."""
        if breaks_terms:
            return GLOBAL
        if order.type == OrderType.TERRORIST_REMOVAL.value:
            return TerritorialScope(EU_MEMBER_STATES)  # TCO Art. 3(3): in all member states
        requested = TerritorialScope.from_json(order.document["territorial_scope"])
        if requested.is_global:
            return TerritorialScope(frozenset({order.country}))
        return requested

    def _restrict(
        self,
        session: Session,
        order: Order,
        authority: AuthorityInfo,
        content: Content,
        actor: str,
        now: datetime,
        automated: bool,
    ) -> TargetOutcome:
        document = order.document
        signals, judged = self.pipeline.judge(
            session, content, DecisionContext(source=Source.AUTHORITY_ORDER)
        )
        wanted = judged.actions | judged.held_actions
        breaks_terms = Action.REMOVE in wanted and judged.territorial_scope.is_global
        scope = self._scope(order, breaks_terms)
        actions = {Action.REMOVE if scope.is_global else Action.GEO_RESTRICT}
        rule = ORDER_RULES[OrderType(order.type)]
        if rule.preserve_for is not None:
            actions.add(Action.PRESERVE_EVIDENCE)
        if not document["withhold_user_notice"]:
            actions.add(Action.NOTIFY_USER)
        explanation = f"{document['statement_of_reasons']} (order {order.reference} of {authority.name})"
        if breaks_terms:
            explanation += (
                f"; the content also breaks the terms of service ({', '.join(map(str, judged.policies))})"
            )
        decision = Decision(
            subject=Subject(SubjectType.CONTENT, content.id),
            actions=frozenset(actions),
            category=Category(document["category"]) if document["category"] else judged.category,
            additional_categories=(),
            ground=Ground(GroundType.ILLEGAL_CONTENT, document["legal_basis"][:500], explanation[:2000]),
            territorial_scope=scope,
            automated_detection=False,
            automated_decision=AutomatedDecision.FULLY if automated else AutomatedDecision.NOT_AUTOMATED,
            review=None,
            source=Source.AUTHORITY_ORDER,
            policies=(),
            source_identity=authority.name,
        )
        decision_id, recorded = self.pipeline.record_reviewed(session, content, decision, signals, actor, now)
        close_by_order(session, decision.subject, decision_id, recorded, actor, now, order.id)
        return TargetOutcome(
            content.id,
            content.id,
            "executed",
            decision_id,
            tuple(sorted(a.value for a in recorded.actions)),
            recorded.territorial_scope.to_json(),
        )

    def _execute(
        self,
        session: Session,
        order: Order,
        authority: AuthorityInfo,
        resolved: Resolved,
        actor: str,
        now: datetime,
        automated: bool,
        chosen: Sequence[str] | None,
        note: str,
    ) -> None:
        """Give effect to the order (all its targets, or the ``chosen`` content ids) in this transaction."""
        order_type = OrderType(order.type)
        rule = ORDER_RULES[order_type]
        contents, missing = resolved
        outcomes = list(missing)
        event_ids: list[str] = []
        held: list[str] = []
        disclosure: dict[str, Any] | None = None
        for content in contents:
            if chosen is not None and content.id not in chosen:
                outcomes.append(
                    TargetOutcome(
                        content.id, content.id, "excluded", reason=note or "not executed by legal review"
                    )
                )
                continue
            if rule.effect is OrderEffect.RESTRICT:
                outcome = self._restrict(session, order, authority, content, actor, now, automated)
                if outcome.decision_id is not None:
                    event_ids += order_store.event_ids_of_decision(session, outcome.decision_id)
            else:
                outcome = TargetOutcome(content.id, content.id, "preserved")
            outcomes.append(outcome)
        kept = [o.content_id for o in outcomes if o.status in ("executed", "preserved") and o.content_id]
        if rule.effect is OrderEffect.PRESERVE:
            accounts = [
                item.id
                for a in order.document["accounts"]
                for item in order_store.account_items(session, a, MAX_DISCLOSED_ITEMS)
            ]
            kept = sorted(set(kept) | set(accounts))
        if rule.preserve_for is not None and kept:
            until = now + rule.preserve_for
            held = order_store.preserve(
                session, kept, order.id, f"{order_type.value} order {order.reference}", now, until
            )
        if rule.effect is OrderEffect.DISCLOSE:
            disclosure, event_id = self._disclose(session, order, authority, now)
            event_ids.append(event_id)
        done = [o for o in outcomes if o.status in ("executed", "preserved")]
        if rule.effect is not OrderEffect.DISCLOSE and not done and not held:
            raise OrderActionError(
                "nothing_to_execute",
                "no target of this order names content Vigil knows; ask the authority for clarification or refuse",
            )
        partial = any(o.status in ("not_found", "excluded") for o in outcomes) or (
            SafeguardFlag.SCOPE_NARROWED.value in {f["flag"] for f in order.safeguards.get("findings", [])}
            and any(o.territorial_scope != "global" for o in done)
        )
        order.executed_at = now
        order.effect = {
            "targets": [o.to_json() for o in outcomes],
            "enforcement_events": event_ids,
            "preservation": {"holds": held, "until": iso(now + rule.preserve_for)}
            if held and rule.preserve_for
            else None,
            "disclosure": disclosure,
            "automated": automated,
            "user_informed": not order.document["withhold_user_notice"],
            "user_notice_due": order.document.get("withhold_user_notice_until"),
            "note": note,
        }
        withheld_until = order.document.get("withhold_user_notice_until")
        if withheld_until and rule.effect is OrderEffect.RESTRICT and done:
            order.user_notice_due_at = datetime.fromisoformat(withheld_until.replace("Z", "+00:00"))
        state = OrderState.PARTIALLY_EXECUTED if partial else OrderState.EXECUTED
        self._move(
            session,
            order,
            state,
            actor,
            now,
            {"targets": [o.to_json() for o in outcomes], "automated": automated, "note": note},
        )
        if not event_ids:  # nothing for the platform to confirm: the answer is ready now
            self._answer(session, order, now, now)

    def _disclose(
        self, session: Session, order: Order, authority: AuthorityInfo, now: datetime
    ) -> tuple[dict[str, Any], str]:
        """The data the order asks for and no more: Vigil's own records of the named accounts, and an
        event telling the platform exactly which of its own fields to hand over."""
        fields = frozenset(InformationField(f) for f in order.document["information"])
        accounts = list(order.document["accounts"])
        package: dict[str, Any] = {}
        for account in accounts:
            items = order_store.account_items(session, account, MAX_DISCLOSED_ITEMS)
            record: dict[str, Any] = {}
            if InformationField.CONTENT in fields:
                record["content"] = [
                    {"id": i.id, "created_at": iso(i.created_at), "text": i.text, "channel_id": i.channel_id}
                    for i in items
                ]
            if InformationField.CHANNELS in fields:
                record["channels"] = sorted({i.channel_id for i in items if i.channel_id})
            if InformationField.DECISIONS in fields:
                current = content_store.current_decisions(session, [i.id for i in items])
                record["decisions"] = [
                    {"content_id": cid, "decided_at": iso(s.created_at), "outcome": s.decision.outcome}
                    for cid, s in sorted(current.items())
                ]
            package[account] = record
        platform_fields = sorted(f.value for f in fields - VIGIL_HELD_FIELDS)
        event_id = new_id("evt")
        payload = {
            "event_id": event_id,
            "type": "order.disclosure",
            "order_id": order.id,
            "authority": {"id": authority.id, "name": authority.name, "country": authority.country},
            "reference": order.reference,
            "accounts": accounts,
            "fields": platform_fields,  # exactly these, about exactly these accounts
            "inform_user": not order.document["withhold_user_notice"],
            "created_at": iso(now),
        }
        outbox_store.enqueue(session, event_id, "order.disclosure", None, canonical_json(payload), now)
        return {
            "accounts": accounts,
            "vigil_fields": sorted(f.value for f in fields & VIGIL_HELD_FIELDS),
            "platform_fields": platform_fields,
            "records": package,
        }, event_id

    def _answer(self, session: Session, order: Order, effect_at: datetime, now: datetime) -> None:
        assert order.deadline is not None or order.state == OrderState.REFUSED.value
        order.answered_at = now
        order.late = answered_late(order.deadline, effect_at) if order.deadline is not None else False
        self._move(
            session,
            order,
            OrderState.ANSWERED,
            AUTO_ACTOR,
            now,
            {"effect_at": iso(effect_at), "late": order.late},
        )

    # --- legal staff ----------------------------------------------------------------------------

    def _legal_row(self, session: Session, order_id: str, caller: Caller) -> Order:
        if caller.role not in LEGAL_ROLES:
            raise OrderActionError("forbidden", f"the {caller.role.value} role does not act on orders")
        order = session.get(Order, order_id)
        if order is None:
            raise OrderNotFoundError(f"no order {order_id!r}")
        if order.senior_review and caller.role is not Role.SENIOR_LEGAL:
            raise OrderActionError(
                "senior_review_required",
                "the safeguards hold this order for senior legal review: "
                + "; ".join(f["detail"] for f in order.safeguards.get("findings", [])),
            )
        return order

    def execute(
        self, order_id: str, caller: Caller, content_ids: Sequence[str] | None, note: str
    ) -> OrderView:
        """Give effect to the order after legal review: to every target, or to ``content_ids`` only
        (partial execution; ``note`` says why the rest is not executed)."""
        now = self.clock()
        with self.store.transaction() as session:
            order = self._legal_row(session, order_id, caller)
            if ORDER_RULES[OrderType(order.type)].effect is OrderEffect.DISCLOSE:
                raise OrderActionError(
                    "approval_required", "a disclosure is given effect by its approvals (POST .../approve)"
                )
            self._require_state(order, OrderState.IN_LEGAL_REVIEW)
            self._execute_reviewed(session, order, caller, now, content_ids, note)
        return self.get(order_id, caller)

    def _execute_reviewed(
        self,
        session: Session,
        order: Order,
        caller: Caller,
        now: datetime,
        chosen: Sequence[str] | None,
        note: str,
    ) -> None:
        """Give effect to the order as legal staff decided it."""
        authority = self._authority_of(session, order)
        resolved = self._resolve(session, order.document)
        self._execute(session, order, authority, resolved, caller.actor, now, False, chosen, note)

    def approve(self, order_id: str, caller: Caller, note: str) -> OrderView:
        """Approve a disclosure; the second distinct approver's approval discloses."""
        now = self.clock()
        with self.store.transaction() as session:
            order = self._legal_row(session, order_id, caller)
            if ORDER_RULES[OrderType(order.type)].effect is not OrderEffect.DISCLOSE:
                raise OrderActionError(
                    "not_a_disclosure", "only disclosures are approved; execute this order instead"
                )
            self._require_state(order, OrderState.IN_LEGAL_REVIEW)
            before = order_store.approvers(session, order.id)
            if caller.actor in before:
                raise OrderActionError(
                    "already_approved", "you approved this disclosure already; a second person must"
                )
            order_store.add_event(session, order.id, now, caller.actor, "approved", {"note": note})
            AuditLog(session).append(caller.actor, "order.approved", "order", order.id, {"note": note}, now)
            if len(before) + 1 >= order.safeguards.get("approvals_required", 2):
                self._execute_reviewed(session, order, caller, now, None, note)
        return self.get(order_id, caller)

    def refuse(self, order_id: str, caller: Caller, ground: RefusalGround, explanation: str) -> OrderView:
        """Refuse the order with its grounds; the authority is answered at once."""
        now = self.clock()
        with self.store.transaction() as session:
            order = self._legal_row(session, order_id, caller)
            check_transition(OrderState(order.state), OrderState.REFUSED)
            order.refusal_ground = ground.value
            order.refusal_explanation = explanation
            self._move(
                session,
                order,
                OrderState.REFUSED,
                caller.actor,
                now,
                {"ground": ground.value, "explanation": explanation},
            )
            self._answer(session, order, now, now)
        return self.get(order_id, caller)

    def request_clarification(self, order_id: str, caller: Caller, question: str) -> OrderView:
        """Ask the authority for clarification; the clock stops until it answers (TCO Art. 3(8))."""
        now = self.clock()
        with self.store.transaction() as session:
            order = self._legal_row(session, order_id, caller)
            check_transition(OrderState(order.state), OrderState.AWAITING_CLARIFICATION)
            order.deadline = None
            # the authority's signed answer must name this id: it binds the answer to this question
            # of this order, so that it cannot be replayed on another order or a later question
            detail = {"question": question, "question_id": new_id("clq")}
            self._move(session, order, OrderState.AWAITING_CLARIFICATION, caller.actor, now, detail)
        return self.get(order_id, caller)

    def clarify(
        self,
        order_id: str,
        caller: Caller,
        body: bytes,
        signature: str | None,
        answer: Clarification,
    ) -> OrderView:
        """The authority's signed answer to a request for clarification: the clock starts afresh.

        The signed document names the order and the question it answers, so the same signed bytes
        cannot retarget another order or answer a later question: each answer is usable once.
        """
        now = self.clock()
        try:
            with self.store.transaction() as session:
                # locked: two deliveries of the same answer at once must not both be taken
                order = self._own_row(session, order_id, caller, lock=True)
                self._check_clarification(session, order, body, signature, answer)
                self._clarified(session, order, caller, answer, now)
        except OrderRejectedError as refused:
            self._audit_clarification_refused(caller, order_id, body, refused, now)
            raise
        return self.get(order_id, caller)

    def _check_clarification(
        self, session: Session, order: Order, body: bytes, signature: str | None, answer: Clarification
    ) -> None:
        authority = get_authority(session, order.authority_id)
        if authority is None or not authority.active:
            raise OrderRejectedError(403, "authority_not_registered", "the authority is no longer registered")
        if not signature or not signature_valid(authority.public_key, body, signature):
            raise OrderRejectedError(401, "signature_invalid", "sign the clarification like the order")
        if answer.order_id != order.id:
            raise OrderRejectedError(
                422,
                "clarification_misdirected",
                f"the signed answer names order {answer.order_id!r}, not {order.id!r}",
            )
        open_question = order_store.open_question_id(session, order.id)
        if order.state != OrderState.AWAITING_CLARIFICATION.value or open_question is None:
            raise OrderRejectedError(
                409, "no_open_question", f"order {order.id} is {order.state}: no question waits for an answer"
            )
        if answer.question_id != open_question:
            raise OrderRejectedError(
                409,
                "clarification_stale",
                f"the signed answer is to question {answer.question_id!r}; the open question is"
                f" {open_question!r}: answer it with a new signed document",
            )

    def _clarified(
        self, session: Session, order: Order, caller: Caller, answer: Clarification, now: datetime
    ) -> None:
        targets = answer.targets
        if targets is not None:
            order.document = {
                **order.document,
                "targets": [{"url": t.url, "content_id": t.content_id} for t in targets],
            }
        rule = ORDER_RULES[OrderType(order.type)]
        order.clock_started_at = now
        order.deadline = order_deadline(now, rule.period)
        assessment = self._assess(order, self._resolve(session, order.document))
        order.safeguards = assessment.to_json()
        order.senior_review = order.senior_review or assessment.senior_review
        order.urgency = Urgency.ON_TRACK.value
        self._move(
            session,
            order,
            OrderState.IN_LEGAL_REVIEW,
            caller.actor,
            now,
            {
                "answer": answer.answer,
                "question_id": answer.question_id,
                "targets_replaced": targets is not None,
                "deadline": iso(order.deadline),
            },
        )

    def _audit_clarification_refused(
        self, caller: Caller, order_id: str, body: bytes, refused: OrderRejectedError, now: datetime
    ) -> None:
        with self.store.transaction() as session:
            AuditLog(session).append(
                caller.actor,
                "order.clarification_rejected",
                "order",
                order_id,
                {
                    "code": refused.code,
                    "reason": refused.message,
                    "body_sha256": hashlib.sha256(body).hexdigest(),
                },
                now,
            )

    @staticmethod
    def _require_state(order: Order, state: OrderState) -> None:
        if order.state != state.value:
            raise OrderActionError("wrong_state", f"the order is {order.state}, not {state.value}")

    # --- reading --------------------------------------------------------------------------------

    def _own_row(self, session: Session, order_id: str, caller: Caller, lock: bool = False) -> Order:
        order = session.get(Order, order_id, with_for_update=lock)
        # an authority sees only its own orders; another's is answered as if it did not exist
        if order is None or (caller.role is Role.AUTHORITY and order.authority_id != caller.bound_to):
            raise OrderNotFoundError(f"no order {order_id!r}")
        return order

    def get(self, order_id: str, caller: Caller) -> OrderView:
        with self.store.transaction() as session:
            return self._view(session, self._own_row(session, order_id, caller))

    def list(
        self, caller: Caller, states: Sequence[OrderState] | None = None, limit: int = 100, offset: int = 0
    ) -> list[OrderView]:
        """Orders by time left; an authority's key lists its own only."""
        with self.store.transaction() as session:
            rows = order_store.list_orders(
                session,
                caller.bound_to if caller.role is Role.AUTHORITY else None,
                [s.value for s in states] if states else None,
                limit,
                offset,
            )
            return [self._view(session, row, with_events=False) for row in rows]

    def _view(self, session: Session, order: Order, with_events: bool = True) -> OrderView:
        now = self.clock()
        rule = ORDER_RULES[OrderType(order.type)]
        authority = get_authority(session, order.authority_id)
        running = order.deadline is not None and order.answered_at is None
        return OrderView(
            id=order.id,
            authority_id=order.authority_id,
            authority_name=authority.name if authority else order.authority_id,
            country=order.country,
            reference=order.reference,
            type=OrderType(order.type),
            state=OrderState(order.state),
            document=order.document,
            received_at=order.received_at,
            clock_started_at=order.clock_started_at,
            deadline=order.deadline,
            statutory_deadline=rule.statutory,
            urgency=urgency(order.deadline, rule.period, now) if running and order.deadline else None,
            seconds_left=int(time_left(order.deadline, now).total_seconds())
            if running and order.deadline
            else None,
            safeguards=order.safeguards,
            senior_review=order.senior_review,
            executed_at=order.executed_at,
            effect=order.effect,
            refusal_ground=order.refusal_ground,
            refusal_explanation=order.refusal_explanation,
            answered_at=order.answered_at,
            late=order.late,
            events=tuple(order_store.order_events(session, order.id)) if with_events else (),
        )

    # --- the clock ------------------------------------------------------------------------------

    def watch(self, limit: int = 200) -> bool:
        """One pass over the unanswered orders: answer those whose effect the platform confirmed,
        escalate those whose clock runs out, and delete the preserved data whose period is over.
        Returns whether a limit was reached (more to do now)."""
        now = self.clock()
        executed = (OrderState.EXECUTED.value, OrderState.PARTIALLY_EXECUTED.value)
        with self.store.transaction() as session:
            waiting = order_store.unanswered(session, executed, limit)
            confirmed = order_store.confirmations(
                session, {o.id: (o.effect or {}).get("enforcement_events", []) for o in waiting}
            )
            for order in waiting:
                if confirmed[order.id].confirmed:
                    self._answer(session, order, confirmed[order.id].at or order.executed_at or now, now)
            running = order_store.unanswered(
                session, [OrderState.VERIFIED.value, OrderState.IN_LEGAL_REVIEW.value, *executed], limit
            )
            for order in running:
                if order.deadline is not None:
                    self._escalate(session, order, now)
            due = order_store.user_notices_due(session, now, limit)
            for order in due:
                self._inform_users(session, order, now)
            released = order_store.release_expired_holds(session, now, limit)
            for hold in released:
                AuditLog(session).append(
                    AUTO_ACTOR,
                    "preservation.released",
                    "content",
                    hold.content_id,
                    {"hold_id": hold.id, "order_id": hold.order_id, "until": iso(hold.until)},
                    now,
                )
        return limit in (len(waiting), len(running), len(due), len(released))

    def _inform_users(self, session: Session, order: Order, now: datetime) -> None:
        """The authority's withholding is over: tell the users whose content the order restricted, with
        the reasons (TCO Art. 11), by the same decision with ``notify_user`` added. A target whose
        decision in force is no longer the order's (an appeal or a court lifted it) is left alone."""
        effect = dict(order.effect or {})
        ordered = {
            t["content_id"]: t["decision_id"] for t in effect.get("targets", []) if t.get("decision_id")
        }
        in_force = content_store.current_decisions(session, list(ordered))
        still = [
            cid for cid, decision_id in ordered.items() if cid in in_force and in_force[cid].id == decision_id
        ]
        informed: list[str] = []
        for content in content_store.load_contents(session, still):
            current = in_force[content.id]
            told = replace(current.decision, actions=current.decision.actions | {Action.NOTIFY_USER})
            new_id_, _ = self.pipeline.record_reviewed(
                session, content, told, current.signals, AUTO_ACTOR, now
            )
            informed.append(new_id_)
        order.user_notice_due_at = None
        order.effect = {**effect, "user_informed": True, "user_informed_at": iso(now)}
        detail = {"decisions": informed}
        order_store.add_event(session, order.id, now, AUTO_ACTOR, "user_informed", detail)
        AuditLog(session).append(AUTO_ACTOR, "order.user_informed", "order", order.id, detail, now)

    def _escalate(self, session: Session, order: Order, now: datetime) -> None:
        assert order.deadline is not None
        level = urgency(order.deadline, ORDER_RULES[OrderType(order.type)].period, now)
        if URGENCY_RANK[level] <= URGENCY_RANK[Urgency(order.urgency)]:
            return
        order.urgency = level.value
        detail = {"urgency": level.value, "deadline": iso(order.deadline), "state": order.state}
        order_store.add_event(session, order.id, now, AUTO_ACTOR, "escalated", detail)
        AuditLog(session).append(AUTO_ACTOR, "order.escalated", "order", order.id, detail, now)
        event_id = new_id("evt")
        payload = {"event_id": event_id, "type": "order.escalated", "order_id": order.id, **detail}
        outbox_store.enqueue(session, event_id, "order.escalated", None, canonical_json(payload), now)
