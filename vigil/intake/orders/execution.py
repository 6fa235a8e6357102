"""Giving effect to an order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

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
from vigil.domain.events import EventType
from vigil.domain.ids import iso, new_id
from vigil.domain.jurisdictions import EU_MEMBER_STATES, GLOBAL, TerritorialScope
from vigil.domain.orders import (
    ORDER_RULES,
    VIGIL_HELD_FIELDS,
    InformationField,
    OrderEffect,
    OrderState,
    OrderType,
)
from vigil.domain.taxonomy import Category
from vigil.enforce.events import emit
from vigil.intake.orders.base import OrderDeskBase
from vigil.intake.orders.model import (
    MAX_DISCLOSED_ITEMS,
    ExecutionRecord,
    OrderActionError,
    Resolved,
    TargetOutcome,
)
from vigil.intake.safeguards import SafeguardFlag
from vigil.review.cases import close_by_order
from vigil.store import content as content_store
from vigil.store import orders as order_store
from vigil.store.authorities import AuthorityInfo
from vigil.store.tables import Order


class OrderExecution(OrderDeskBase):
    """Giving effect to an order: restrictions as decisions on the usual path, preservation holds and
    disclosures, in the caller's transaction."""

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
        close_by_order(
            session, self.pipeline.answering, decision.subject, decision_id, recorded, actor, now, order.id
        )
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
        order.effect = ExecutionRecord(
            targets=tuple(outcomes),
            enforcement_events=tuple(event_ids),
            preservation={"holds": held, "until": iso(now + rule.preserve_for)}
            if held and rule.preserve_for
            else None,
            disclosure=disclosure,
            automated=automated,
            user_informed=not order.document["withhold_user_notice"],
            user_notice_due=order.document.get("withhold_user_notice_until"),
            note=note,
        ).to_json()
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
        body = {
            "event_id": event_id,  # deprecated: the envelope's ``id``; goes in 0.3.0 (CHANGELOG.md)
            "order_id": order.id,
            "authority": {"id": authority.id, "name": authority.name, "country": authority.country},
            "reference": order.reference,
            "accounts": accounts,
            "fields": platform_fields,  # exactly these, about exactly these accounts
            "inform_user": not order.document["withhold_user_notice"],
        }
        emit(session, EventType.ORDER_DISCLOSURE, body, now, event_id=event_id)
        return {
            "accounts": accounts,
            "vigil_fields": sorted(f.value for f in fields & VIGIL_HELD_FIELDS),
            "platform_fields": platform_fields,
            "records": package,
        }, event_id
