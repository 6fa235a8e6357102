"""Evaluate policies: content, signals and context in; one merged Decision out. Pure, no I/O.

When several policies match, their outcomes merge by a fixed precedence (``docs/policies.md``):

1. Visibility restrictions compete: the most severe wins (remove > geo_restrict > age_restrict >
   demote > label); milder ones are dropped, since a content item has one visibility at a time.
2. Geo-restrictions union their countries: content illegal in Germany by one policy and in France by
   another is withheld in both.
3. Account and channel actions, and Vigil's own duties (preserve evidence, report to a hotline,
   notify the user) are unioned.
4. The category and ground of the decision come from the outcome with the most severe restriction
   of the content itself (then channel bans, then account suspensions; ties: the policy id, for
   determinism); other matched categories become additional categories.
5. Review is needed when any matched policy asks for it, or when a policy fails to evaluate (a
   person looks rather than the machine silently passing the item).
6. Shadow policies never contribute; what they would have done is recorded beside the decision.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import cel

from vigil.domain.cases import ReviewMode
from vigil.domain.content import Content
from vigil.domain.decisions import (
    ACCOUNT_ACTIONS,
    ANCILLARY_ACTIONS,
    OUTCOME_ACTIONS,
    PLATFORM_ACTIONS,
    VISIBILITY_SEVERITY,
    Action,
    AutomatedDecision,
    Decision,
    DecisionContext,
    PolicyMode,
    PolicyOutcome,
    PolicyRef,
)
from vigil.domain.jurisdictions import GLOBAL, TerritorialScope
from vigil.domain.signals import Signal
from vigil.domain.taxonomy import Category
from vigil.policy.loader import PolicyDefinition, compile_condition

log = logging.getLogger(__name__)

# A decision is first about the content, so what happens to the content picks the category and ground.


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A stored policy version with its condition compiled once."""

    definition: PolicyDefinition
    version: int
    program: Any

    @property
    def ref(self) -> PolicyRef:
        return PolicyRef(self.definition.id, self.version)

    def outcome(self) -> PolicyOutcome:
        d = self.definition
        return PolicyOutcome(
            policy=self.ref,
            mode=d.mode,
            category=d.category,
            ground=d.ground,
            actions=d.actions,
            territorial_scope=d.territorial_scope,
            review=d.review,
            strikes=d.strikes,
        )


def compile_policy(definition: PolicyDefinition, version: int) -> CompiledPolicy:
    return CompiledPolicy(definition, version, compile_condition(definition.when))


def _rank(outcome: PolicyOutcome) -> tuple[int, str]:
    severity = next((i for i, a in enumerate(OUTCOME_ACTIONS) if a in outcome.actions), len(OUTCOME_ACTIONS))
    return severity, outcome.policy.id


def merge_outcomes(outcomes: Sequence[PolicyOutcome]) -> tuple[frozenset[Action], TerritorialScope]:
    """The actions and territorial scope that the matched outcomes add up to (rules 1-3 above)."""
    actions: set[Action] = set()
    for outcome in outcomes:
        actions |= outcome.actions & (ACCOUNT_ACTIONS | ANCILLARY_ACTIONS)
    requested = {a for o in outcomes for a in o.actions}
    winner = next((a for a in VISIBILITY_SEVERITY if a in requested), None)
    scope = GLOBAL
    if winner is not None:
        actions.add(winner)
        if winner is Action.GEO_RESTRICT:
            scope = TerritorialScope(frozenset())
            for outcome in outcomes:
                if Action.GEO_RESTRICT in outcome.actions:
                    scope = scope.union(outcome.territorial_scope)
    return frozenset(actions), scope


def _review(outcomes: Sequence[PolicyOutcome], failed: bool) -> ReviewMode | None:
    """Review before acting if any matched policy asks for it; else after, if any asks for review or
    a policy could not be evaluated (a reviewer then sees what the others decided)."""
    modes = {o.review for o in outcomes}
    if ReviewMode.BEFORE in modes:
        return ReviewMode.BEFORE
    return ReviewMode.AFTER if ReviewMode.AFTER in modes or failed else None


class PolicySet:
    """The policies in force, evaluated together for each item."""

    def __init__(self, policies: Sequence[CompiledPolicy]) -> None:
        self.policies = tuple(sorted(policies, key=lambda p: p.definition.id))

    @property
    def refs(self) -> tuple[PolicyRef, ...]:
        return tuple(p.ref for p in self.policies)

    def decide(self, content: Content, signals: Sequence[Signal], context: DecisionContext) -> Decision:
        """The decision on ``content`` given the detectors' ``signals``."""
        activation = cel.Context(
            {
                "content": content.to_activation(),
                "signals": [s.to_activation() for s in signals],
                "context": context.to_activation(),
            }
        )
        enforced: list[PolicyOutcome] = []
        shadow: list[PolicyOutcome] = []
        failed = False
        for policy in self.policies:
            try:
                matched = policy.program.execute(activation) is True
            except (LookupError, ArithmeticError, RuntimeError, TypeError, ValueError) as exc:
                log.warning("policy %s failed on content %s: %s", policy.ref, content.id, exc)
                failed = True
                continue
            if matched:
                target = shadow if policy.definition.mode is PolicyMode.SHADOW else enforced
                target.append(policy.outcome())
        automated_detection = bool(signals)
        if not enforced:
            decision = Decision.no_action(
                content.subject, context.source, automated_detection, context.source_identity
            )
            if not (shadow or failed):
                return decision
            return replace(decision, review=ReviewMode.AFTER if failed else None, shadow=tuple(shadow))
        enforced.sort(key=_rank)
        review = _review(enforced, failed)
        # review before acting holds back the restrictions that only such policies ask for; what
        # other matched policies ask for, and Vigil's own duties, go ahead at once
        wanted, scope = merge_outcomes(enforced)
        acting, acting_scope = merge_outcomes([o for o in enforced if o.review is not ReviewMode.BEFORE])
        held = (wanted - acting) & PLATFORM_ACTIONS
        in_force = (acting & PLATFORM_ACTIONS) | (wanted - PLATFORM_ACTIONS)
        if acting & PLATFORM_ACTIONS:
            scope = acting_scope
        primary = enforced[0]
        additional: list[Category] = []
        for outcome in enforced[1:]:
            if outcome.category != primary.category and outcome.category not in additional:
                additional.append(outcome.category)
        return Decision(
            subject=content.subject,
            actions=in_force,
            held_actions=held,
            category=primary.category,
            additional_categories=tuple(additional),
            ground=primary.ground,
            territorial_scope=scope,
            automated_detection=automated_detection,
            automated_decision=AutomatedDecision.FULLY,
            review=review,
            source=context.source,
            source_identity=context.source_identity,
            policies=tuple(sorted((o.policy for o in enforced), key=str)),
            shadow=tuple(shadow),
            # a strike counts once a restriction is in force: held ones wait for the reviewer
            strikes=max(
                (
                    o.strikes
                    for o in enforced
                    if o.review is not ReviewMode.BEFORE and o.actions & PLATFORM_ACTIONS
                ),
                default=0,
            ),
        )
