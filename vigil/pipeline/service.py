"""The in-process pipeline: intake -> detect -> decide -> act.

``detect`` and ``decide`` are pure (``DetectorRegistry.detect``, ``PolicySet.decide``). This module
is the edge around them: it loads what they need from the store, and writes the decision, its
enforcement event and its audit record in one transaction.

Idempotent by the platform's content id: a resubmitted id gets the decision in force for it,
and nothing is enforced again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.detect.base import Detector, DetectorRegistry
from vigil.detect.registry import SIGNAL_TYPES
from vigil.detect.signal_types import BankEntry, BankIndex, IndexSettings, SignalType
from vigil.domain.content import Content
from vigil.domain.decisions import (
    OUTCOME_ACTIONS,
    RESTRICTING_OUTCOMES,
    Action,
    AutomatedDecision,
    Decision,
    DecisionContext,
    Source,
)
from vigil.domain.events import AuditAction
from vigil.domain.ids import new_id, utcnow
from vigil.domain.signals import Signal
from vigil.domain.taxonomy import Category
from vigil.enforce.actions import request_enforcement
from vigil.observe.metrics import observe_decisions
from vigil.pipeline.accountability import DecisionHook, decision_hooks
from vigil.pipeline.answers import ANSWERS
from vigil.policy.engine import CompiledPolicy, PolicySet, compile_policy
from vigil.review.answering import Answering
from vigil.review.notice_cases import take_up_waiting_notices
from vigil.review.queues import QueueConfig, load_queue_config
from vigil.review.routing import CaseOpening
from vigil.review.strikes import StrikeRules, load_strike_rules, with_strikes
from vigil.store import banks as bank_store
from vigil.store import content as content_store
from vigil.store import notices as notice_store
from vigil.store import policies as policy_store
from vigil.store.audit import AuditLog
from vigil.store.db import Store


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one submitted item."""

    content_id: str
    decision_id: str
    decision: Decision
    signals: tuple[Signal, ...]
    duplicate: bool  # the id was seen before; the stored decision is returned and nothing is repeated


@dataclass(frozen=True, slots=True)
class HashMatch:
    """A bank hash that a looked-up hash matches."""

    bank: str
    category: Category
    hash_type: str
    distance: int


class _Snapshot:
    """Detectors and policies built from the store, rebuilt only when banks or policies change.

    One bank index per index group of the registered signal types (``detect/signal_types.py``),
    each with its detector, in the registry's order (digests, PDQ, vPDQ, then plugins' types).
    """

    def __init__(self, pdq_quality_threshold: int, detectors: Sequence[Detector]) -> None:
        self.bank_fingerprint: tuple[tuple[int, int, bool], ...] | None = None
        self.max_hash_id = 0
        self.policy_fingerprint: object = None
        self.pdq_quality_threshold = pdq_quality_threshold
        self.settings = IndexSettings(pdq_quality_threshold)
        self.groups: dict[str, tuple[SignalType, ...]] = SIGNAL_TYPES.index_groups()
        self._group_of = {t.name: group for group, types in self.groups.items() for t in types}
        self.hash_types = list(self._group_of)
        self.indexes: dict[str, BankIndex] = {
            group: types[0].build_index((), self.settings) for group, types in self.groups.items()
        }
        self.detectors = DetectorRegistry(
            [*(index.detector() for index in self.indexes.values()), *detectors]
        )
        self.policies = PolicySet(())
        self.lock = threading.Lock()

    def index_of(self, hash_type: str) -> BankIndex:
        """The index that holds the banks' hashes of ``hash_type`` (InvalidHashError if unknown)."""
        return self.indexes[SIGNAL_TYPES.get(hash_type).group]

    def refresh(self, session: Session) -> tuple[DetectorRegistry, PolicySet]:
        with self.lock:
            banks = bank_store.banks_fingerprint(session)
            if banks != self.bank_fingerprint:
                self._reload_banks(session, banks)
            policies = policy_store.active_fingerprint(session)
            if policies != self.policy_fingerprint:
                self.policies = PolicySet(
                    [compile_policy(d, v) for d, v in policy_store.active_policies(session)]
                )
                self.policy_fingerprint = policies
            return self.detectors, self.policies

    def _reload_banks(self, session: Session, banks: tuple[tuple[int, int, bool], ...]) -> None:
        newest = bank_store.max_hash_id(session)
        # hashes added, or banks created (new banks have larger ids and are empty or only just
        # filled), are taken in incrementally; a bank enabled, disabled or removed rebuilds the index
        before = [(b, e) for b, _, e in self.bank_fingerprint or ()]
        same_banks = (
            self.bank_fingerprint is not None and [(b, e) for b, _, e in banks][: len(before)] == before
        )
        after_id = self.max_hash_id if same_banks else 0
        by_group: dict[str, list[BankEntry]] = {group: [] for group in self.groups}
        for entry in bank_store.bank_entries(session, self.hash_types, after_id=after_id):
            by_group[self._group_of[entry.hash_type]].append(entry)
        for group, types in self.groups.items():
            if same_banks:
                # only hashes were added (banks never lose hashes): take in the new ones, since a full
                # rebuild of a ten-million-hash index would stall every request behind it
                self.indexes[group].add(by_group[group])
            else:
                index = types[0].build_index(by_group[group], self.settings)
                self.indexes[group] = index
                self.detectors.replace(index.detector())
        self.bank_fingerprint = banks
        self.max_hash_id = newest


class Pipeline:
    """Submits content and returns decisions; safe to share between threads."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = utcnow,
        pdq_quality_threshold: int = 50,
        detectors: Sequence[Detector] = (),
        queues: QueueConfig | None = None,
        qa_sample_rate: float = 0.0,
        strike_rules: StrikeRules | None = None,
        after_decision: Sequence[DecisionHook] | None = None,
        open_cases: DecisionHook | None = None,
    ) -> None:
        """``detectors`` are those that need nothing from the store (the text classifier); the bank
        detectors are built here, from the store, and rebuilt when the banks change."""
        self.store = store
        self.clock = clock
        self._snapshot = _Snapshot(pdq_quality_threshold, detectors)
        self.queues = queues or load_queue_config()
        self.qa_sample_rate = qa_sample_rate
        self.strike_rules = strike_rules or load_strike_rules()
        # what every recorded decision brings about besides enforcement and review, in the same
        # transaction: its statement of reasons, the day's figures, evidence and hotline reports
        self.after_decision = tuple(after_decision) if after_decision is not None else decision_hooks()
        # and, after those, the hook that puts decisions before a person: opens or joins a review case
        # where the decision asks for one, and draws the QA sample (vigil/review/routing.py)
        self.open_cases = open_cases or CaseOpening(self.queues, qa_sample_rate)
        # what answering a notice or an appeal brings about (figures, the notifier's event, audit),
        # handed to the review desks, which sit below transparency and enforce
        self.answering: Answering = ANSWERS

    def policies_in_force(self, session: Session) -> tuple[CompiledPolicy, ...]:
        """The policies in force, from the compiled set this pipeline keeps (re-read from the store
        only when a policy changed)."""
        _, policies = self._snapshot.refresh(session)
        return policies.policies

    def evaluate(
        self, contents: Sequence[Content], context: DecisionContext
    ) -> list[tuple[list[Signal], Decision]]:
        """Detect and decide without recording or enforcing anything (``vigil scan``, dry runs)."""
        with self.store.transaction() as session:
            detectors, policies = self._snapshot.refresh(session)
        results: list[tuple[list[Signal], Decision]] = []
        for content in contents:
            signals = detectors.detect(content)
            results.append((signals, policies.decide(content, signals, context)))
        return results

    def judge(
        self, session: Session, content: Content, context: DecisionContext
    ) -> tuple[list[Signal], Decision]:
        """What detection and the policies in force make of ``content``, in the caller's transaction,
        recording nothing (an order's execution asks whether the content also breaks the terms)."""
        detectors, policies = self._snapshot.refresh(session)
        signals = detectors.detect(content)
        return signals, policies.decide(content, signals, context)

    def lookup(self, hashes: Sequence[tuple[str, str]]) -> list[list[HashMatch]]:
        """Which bank hashes each of ``hashes`` (type name, normalised value) matches: exact for
        digests, by distance for PDQ and vPDQ, as its signal type's index matches it.

        This is the privacy-preserving path: a platform that hashes on the device sends hashes only,
        and Vigil neither sees the media nor records the look-up as content.
        """
        with self.store.transaction() as session:
            self._snapshot.refresh(session)
        results: list[list[HashMatch]] = []
        for hash_type, value in hashes:
            index = self._snapshot.index_of(hash_type)
            results.append(
                [
                    HashMatch(m.bank.name, m.bank.category, hash_type, m.distance)
                    for m in index.lookup(hash_type, value)
                ]
            )
        return results

    def submit(
        self, items: Sequence[Content], context: DecisionContext, actor: str, path: str = "api"
    ) -> list[Outcome]:
        """Decide on ``items`` (in order) and record everything in one transaction; ``path`` says
        which door they came in by (``api`` or ``stream``) for the metrics."""
        started = time.perf_counter()
        try:
            outcomes = self._submit(items, context, actor)
        except IntegrityError:
            # another request stored one of these ids between our read and our write: go again, and
            # this time it is found and returned as a duplicate
            outcomes = self._submit(items, context, actor)
        observe_decisions(
            path, [o.decision.outcome for o in outcomes if not o.duplicate], time.perf_counter() - started
        )
        return outcomes

    def _submit(self, items: Sequence[Content], context: DecisionContext, actor: str) -> list[Outcome]:
        now = self.clock()
        # Detection and policy evaluation run between two transactions, not inside the writing one:
        # a connection never sits idle in a transaction, holding row locks, while Python classifies
        # text or matches hashes. The write transaction checks again which ids are new.
        with self.store.transaction() as session:
            detectors, policies = self._snapshot.refresh(session)
            known = content_store.decided_ids(session, [c.id for c in items])
        detected = {
            content.id: self._detect(detectors, policies, content, context)
            for content in items
            if content.id not in known
        }
        with self.store.transaction() as session:
            return self.record(session, items, context, actor, now, detected)

    @staticmethod
    def _detect(
        detectors: DetectorRegistry, policies: PolicySet, content: Content, context: DecisionContext
    ) -> tuple[list[Signal], Decision]:
        signals = detectors.detect(content)
        return signals, policies.decide(content, signals, context)

    def record(
        self,
        session: Session,
        items: Sequence[Content],
        context: DecisionContext,
        actor: str,
        now: datetime,
        detected: Mapping[str, tuple[list[Signal], Decision]] | None = None,
    ) -> list[Outcome]:
        """Decide on ``items`` (in order) and record everything in the caller's transaction (a notice
        records the item it reports together with the notice). Ids seen before, or earlier in
        ``items``, come back as duplicates with the decision in force. ``detected`` holds signals
        and decisions already worked out outside the transaction, by content id; the rest are
        detected here (the detectors and policies are read only if some are left)."""
        stored = content_store.current_decisions(session, [c.id for c in items])
        outcomes: dict[str, Outcome] = {
            cid: Outcome(cid, s.id, s.decision, s.signals, duplicate=True) for cid, s in stored.items()
        }
        decided: list[tuple[Content, Decision, list[Signal]]] = []
        snapshot: tuple[DetectorRegistry, PolicySet] | None = None
        seen = set(outcomes)
        for content in items:
            if content.id in seen:  # known already, or the same id twice in one request
                continue
            seen.add(content.id)
            found = detected.get(content.id) if detected is not None else None
            if found is None:
                snapshot = snapshot or self._snapshot.refresh(session)
                found = self._detect(*snapshot, content, context)
            signals, decision = found
            decided.append((content, decision, signals))
        fresh: list[content_store.NewDecision] = []
        for content, decision, signals in self._with_strikes(session, decided, now):
            new = content_store.NewDecision(new_id("dec"), content, decision, signals)
            fresh.append(new)
            outcomes[content.id] = Outcome(content.id, new.id, decision, tuple(signals), duplicate=False)
        # before the items are written: a notice about one of them may be being recorded right now
        notice_store.hold_items(session, [new.content.id for new in fresh])
        content_store.record_content(session, fresh, now)
        content_store.record_decisions(session, fresh, now)
        audit = AuditLog(session)
        for new in fresh:
            self._act(session, audit, new, actor, now)
        # the platform has just sent these items: notices may have been waiting for them
        take_up_waiting_notices(session, self.answering, audit, self.queues, fresh, actor, now)
        results: list[Outcome] = []
        first_in_request: set[str] = set()
        for content in items:
            outcome = outcomes[content.id]
            if not outcome.duplicate and content.id in first_in_request:
                outcome = Outcome(
                    outcome.content_id, outcome.decision_id, outcome.decision, outcome.signals, True
                )
            first_in_request.add(content.id)
            results.append(outcome)
        return results

    def redecide(
        self,
        content_ids: Sequence[str],
        context: DecisionContext,
        actor: str,
        also: Callable[[Session], None] | None = None,
    ) -> list[Outcome]:
        """Decide again on content already seen (after its banks or policies changed).

        A new decision is recorded, enforced and audited only where it differs from the latest one;
        ``also`` runs in the same transaction (a retroactive job records its progress there, so a
        crash can neither lose nor repeat a decision).
        """
        now = self.clock()
        outcomes: list[Outcome] = []
        # as in submit: detection runs between the read and the write transaction, and what is in
        # force is read again in the write transaction, so a reviewer's decision of the moment counts
        with self.store.transaction() as session:
            detectors, policies = self._snapshot.refresh(session)
            contents = content_store.load_contents(session, content_ids)
        detected = [(content, *self._detect(detectors, policies, content, context)) for content in contents]
        with self.store.transaction() as session:
            latest = content_store.current_decisions(session, content_ids)
            fresh: list[content_store.NewDecision] = []
            for content, signals, decision in detected:
                previous = latest.get(content.id)
                if previous is not None and (
                    _same_verdict(previous.decision, decision)
                    or _weakens_a_settled(previous.decision, decision)
                ):
                    continue
                new = content_store.NewDecision(new_id("dec"), content, decision, signals)
                fresh.append(new)
                outcomes.append(Outcome(content.id, new.id, decision, tuple(signals), duplicate=False))
            content_store.record_decisions(session, fresh, now)
            audit = AuditLog(session)
            for new in fresh:
                self._act(session, audit, new, actor, now, latest.get(new.content.id))
            if also is not None:
                also(session)
        return outcomes

    def _with_strikes(
        self, session: Session, decided: list[tuple[Content, Decision, list[Signal]]], now: datetime
    ) -> list[tuple[Content, Decision, list[Signal]]]:
        """The decisions with the account suspensions and channel bans their strikes bring about,
        counting each item's strikes, in order, on top of those in force (review/strikes.py)."""
        striking = [content for content, decision, _ in decided if decision.strikes > 0]
        if not striking:
            return decided
        rules = self.strike_rules
        by_author, by_channel = content_store.strike_totals(
            session,
            sorted({c.author_id for c in striking}),
            sorted({c.channel_id for c in striking if c.channel_id}),
            now - rules.window,
            leave_out={content.id for content, _, _ in decided},
        )
        result: list[tuple[Content, Decision, list[Signal]]] = []
        for content, decision, signals in decided:
            if decision.strikes > 0:
                by_author[content.author_id] += decision.strikes
                channel_total = None
                if content.channel_id:
                    by_channel[content.channel_id] += decision.strikes
                    channel_total = by_channel[content.channel_id]
                decision = with_strikes(decision, by_author[content.author_id], channel_total, rules)
            result.append((content, decision, signals))
        return result

    def record_reviewed(
        self,
        session: Session,
        content: Content,
        decision: Decision,
        signals: Sequence[Signal],
        actor: str,
        now: datetime,
    ) -> tuple[str, Decision]:
        """Record a person's decision on ``content`` in the caller's transaction; enforce and audit
        it like any other. Returns the new decision's id and the decision as recorded (with what its
        strikes brought about)."""
        previous = content_store.current_decisions(session, [content.id]).get(content.id)
        [(_, decision, _)] = self._with_strikes(session, [(content, decision, list(signals))], now)
        new = content_store.NewDecision(new_id("dec"), content, decision, signals)
        content_store.record_decisions(session, [new], now)
        self._act(session, AuditLog(session), new, actor, now, previous)
        return new.id, decision

    def _act(
        self,
        session: Session,
        audit: AuditLog,
        new: content_store.NewDecision,
        actor: str,
        now: datetime,
        previous: content_store.StoredDecision | None = None,
    ) -> None:
        """Enforce, audit, and run the decision hooks, the last of which opens or joins a review case
        where the decision asks for one.

        The platform hears of a decision when it changes what is in force on the subject: the first
        restriction, a different one, or none any more (``previous`` is the decision it replaces).
        """
        decision = new.decision
        event_id = None
        before = previous.decision if previous is not None else None
        if _enforcement_changes(before, decision):
            supersedes = previous.id if previous is not None else None
            event_id = request_enforcement(session, new.id, decision, now, supersedes)
        audit.append(
            actor=actor,
            action=AuditAction.DECISION_CREATED,
            subject_type=decision.subject.type.value,
            subject_id=decision.subject.id,
            payload={
                "decision_id": new.id,
                "outcome": decision.outcome,
                "actions": sorted(a.value for a in decision.actions),
                "category": decision.category.value if decision.category else None,
                "policies": [str(p) for p in decision.policies],
                "review": decision.review.value if decision.review else None,
                "held_actions": sorted(a.value for a in decision.held_actions),
                "enforcement_event": event_id,
            },
            at=now,
        )
        for hook in (*self.after_decision, self.open_cases):
            hook(session, new, previous, actor, now)


def _enforcement_changes(before: Decision | None, after: Decision) -> bool:
    if before is None:
        return bool(after.platform_actions)
    if before.platform_actions != after.platform_actions:
        return True
    return bool(after.platform_actions) and before.territorial_scope != after.territorial_scope


def _severity(decision: Decision) -> int:
    """How severe the decision's outcome is: 0 for removal, rising to no restriction at all."""
    outcome = decision.outcome
    return OUTCOME_ACTIONS.index(Action(outcome)) if outcome in RESTRICTING_OUTCOMES else len(OUTCOME_ACTIONS)


def _weakens_a_settled(previous: Decision, new: Decision) -> bool:
    """Whether a machine's re-decision would lift or soften what a person or an authority's order put
    in force. It may add to it (a newly banked hash of abuse material still removes the item), never
    take from it: that is for a reviewer, an appeal or the authority."""
    settled = (
        previous.source is Source.AUTHORITY_ORDER
        or previous.automated_decision is AutomatedDecision.NOT_AUTOMATED
    )
    return settled and _severity(new) >= _severity(previous)


def _same_verdict(previous: Decision, new: Decision) -> bool:
    """Whether a re-decision changes nothing the platform, a reviewer or the user would see."""
    return (previous.actions, previous.held_actions, previous.review) == (
        new.actions,
        new.held_actions,
        new.review,
    )
