"""Deciding: matched policies merge into one decision by a fixed, documented precedence."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain.cases import ReviewMode
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes, Subject, SubjectType
from vigil.domain.decisions import (
    ACCOUNT_ACTIONS,
    ANCILLARY_ACTIONS,
    PLATFORM_ACTIONS,
    VISIBILITY_SEVERITY,
    Action,
    AutomatedDecision,
    Decision,
    DecisionContext,
    Ground,
    GroundType,
    PolicyMode,
    PolicyOutcome,
    PolicyRef,
    Source,
    decision_from_json,
    decision_to_json,
)
from vigil.domain.jurisdictions import GLOBAL, TerritorialScope
from vigil.domain.signals import Signal, SignalKind
from vigil.domain.taxonomy import Category
from vigil.policy.engine import CompiledPolicy, PolicySet, compile_policy, merge_outcomes
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths, parse_policies

T = TypeVar("T")

# --- building scenarios --------------------------------------------------------------------------


def policy(
    policy_id: str,
    *actions: Action,
    category: Category = Category.SPAM,
    ground: GroundType = GroundType.INCOMPATIBLE_CONTENT,
    countries: Sequence[str] = (),
    review: ReviewMode | None = None,
    shadow: bool = False,
    when: str = "true",
    version: int = 1,
) -> CompiledPolicy:
    """A policy written as its YAML, loaded and compiled as the service would."""
    lines = [
        f"id: {policy_id}",
        f"when: {json.dumps(when)}",
        f"category: {category.value}",
        "ground:",
        f"  type: {ground.value}",
        f"  reference: {policy_id} rule",
        f"  explanation: Why {policy_id} applies.",
        f"actions: [{', '.join(a.value for a in actions)}]",
    ]
    if countries:
        lines.append(f"territorial_scope: [{', '.join(countries)}]")
    if review:
        lines.append(f"review: {review.value}")
    if shadow:
        lines.append("mode: shadow")
    (definition,) = parse_policies("\n".join(lines) + "\n", file=f"{policy_id}.yaml")
    return compile_policy(definition, version)


def item(
    audience: Audience = Audience.PUBLIC,
    text: str = "Look at this",
    media: tuple[MediaHashes, ...] = (),
    content_id: str = "post-1",
) -> Content:
    return Content(
        id=content_id,
        kind=ContentKind.POST,
        audience=audience,
        author_id="user-7",
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        country="DE",
        reach=120,
        language="de",
        text=text,
        media=media,
    )


def photo() -> MediaHashes:
    return MediaHashes("m-1", "image/jpeg", "a" * 32, "b" * 64, 2048)


def classifier(category: Category, score: float, label: str = "") -> Signal:
    return Signal(detector="model", kind=SignalKind.CLASSIFIER, category=category, score=score, label=label)


def hash_match(category: Category, bank: str) -> Signal:
    return Signal(
        detector="digest_bank",
        kind=SignalKind.HASH_MATCH,
        category=category,
        score=1.0,
        bank=bank,
        bank_version=3,
        hash_type="sha256",
        media_id="m-1",
    )


def decide(
    policies: Sequence[CompiledPolicy],
    content: Content | None = None,
    signals: Sequence[Signal] = (),
    source: Source = Source.VOLUNTARY,
) -> Decision:
    return PolicySet(policies).decide(content or item(), signals, DecisionContext(source))


# --- no match, one match ---------------------------------------------------------------------------


def test_nothing_matches_so_nothing_is_done() -> None:
    never = policy("never", Action.REMOVE, when="content.reach > 1000000")

    decision = decide([never])

    assert decision.outcome == "no_action"
    assert decision.actions == frozenset()
    assert decision.category is None
    assert decision.ground is None
    assert decision.policies == ()
    assert decision.review_needed is False
    assert decision.territorial_scope == GLOBAL
    assert decision.shadow == ()
    assert decision.restricts is False
    assert decision.subject == Subject(SubjectType.CONTENT, "post-1")


def test_decision_records_whether_detectors_contributed() -> None:
    never = policy("never", Action.REMOVE, when="false")

    assert decide([never]).automated_detection is False
    assert decide([never], signals=[classifier(Category.SPAM, 0.1)]).automated_detection is True


def test_single_match_gives_its_actions_category_ground_and_reference() -> None:
    spam = policy(
        "spam-demote",
        Action.DEMOTE,
        category=Category.SPAM,
        when="signals.exists(s, s.category == 'spam' && s.score >= 0.9)",
        version=4,
    )

    decision = decide([spam], signals=[classifier(Category.SPAM, 0.97)], source=Source.NOTICE)

    assert decision.outcome == "demote"
    assert decision.actions == {Action.DEMOTE}
    assert decision.category is Category.SPAM
    assert decision.additional_categories == ()
    assert decision.ground is not None
    assert decision.ground.type is GroundType.INCOMPATIBLE_CONTENT
    assert decision.ground.reference == "spam-demote rule"
    assert decision.policies == (PolicyRef("spam-demote", 4),)
    assert decision.territorial_scope == GLOBAL
    assert decision.source is Source.NOTICE
    assert decision.automated_decision is AutomatedDecision.FULLY
    assert decision.review_needed is False


def test_policy_condition_sees_content_and_context() -> None:
    public_notice = policy(
        "public-notice",
        Action.LABEL,
        when="content.audience == 'public' && content.has_media && context.source == 'notice'",
    )

    assert decide([public_notice], item(media=(photo(),)), source=Source.NOTICE).actions == {Action.LABEL}
    assert decide([public_notice], item(media=(photo(),)), source=Source.VOLUNTARY).outcome == "no_action"
    assert decide([public_notice], item(), source=Source.NOTICE).outcome == "no_action"


# --- visibility: the most severe restriction wins ------------------------------------------------


def restricting(policy_id: str, action: Action, category: Category = Category.SPAM) -> CompiledPolicy:
    countries = ("DE",) if action is Action.GEO_RESTRICT else ()
    return policy(policy_id, action, category=category, countries=countries)


@pytest.mark.parametrize(
    ("severe", "mild"),
    list(itertools.combinations(VISIBILITY_SEVERITY, 2)),
    ids=lambda a: a.value,
)
def test_most_severe_restriction_wins_when_policies_overlap(severe: Action, mild: Action) -> None:
    # ids chosen so that the milder policy sorts first: precedence is by severity, not by name
    decision = decide([restricting("a-mild", mild), restricting("b-severe", severe)])

    assert decision.actions == {severe}
    assert decision.outcome == severe.value
    assert decision.policies == (PolicyRef("a-mild", 1), PolicyRef("b-severe", 1))


def test_remove_beats_demote_and_the_demotion_is_dropped() -> None:
    decision = decide(
        [restricting("spam", Action.DEMOTE), restricting("scam", Action.REMOVE, Category.FRAUD)]
    )

    assert decision.actions == {Action.REMOVE}
    assert Action.DEMOTE not in decision.actions


def test_geo_restrictions_from_two_policies_union_their_countries() -> None:
    german_law = policy("de-law", Action.GEO_RESTRICT, category=Category.HATE_SPEECH, countries=("DE", "AT"))
    french_law = policy("fr-law", Action.GEO_RESTRICT, category=Category.HATE_SPEECH, countries=("FR", "AT"))

    decision = decide([german_law, french_law])

    assert decision.actions == {Action.GEO_RESTRICT}
    assert decision.territorial_scope == TerritorialScope.of(["AT", "DE", "FR"])


def test_geo_restriction_beats_age_restriction_and_keeps_its_countries() -> None:
    law = policy("de-law", Action.GEO_RESTRICT, category=Category.HATE_SPEECH, countries=("DE",))
    nudity = policy("nudity", Action.AGE_RESTRICT, category=Category.ADULT_NUDITY)

    decision = decide([law, nudity])

    assert decision.actions == {Action.GEO_RESTRICT}
    assert decision.territorial_scope == TerritorialScope.of(["DE"])
    assert decision.category is Category.HATE_SPEECH


def test_removal_together_with_a_geo_restriction_removes_everywhere() -> None:
    law = policy("de-law", Action.GEO_RESTRICT, category=Category.HATE_SPEECH, countries=("DE",))
    terror = policy("terror", Action.REMOVE, category=Category.TERRORISM, ground=GroundType.ILLEGAL_CONTENT)

    decision = decide([law, terror])

    assert decision.actions == {Action.REMOVE}
    assert decision.territorial_scope == GLOBAL
    assert decision.territorial_scope.to_json() == "global"


# --- account and ancillary actions are unioned ----------------------------------------------------


def test_account_and_ancillary_actions_from_all_matched_policies_are_kept() -> None:
    decision = decide(
        [
            policy("a", Action.REMOVE, Action.PRESERVE_EVIDENCE),
            policy("b", Action.DEMOTE, Action.SUSPEND_ACCOUNT, Action.NOTIFY_USER),
            policy("c", Action.BAN_CHANNEL, Action.REPORT_HOTLINE),
        ]
    )

    assert decision.actions == {
        Action.REMOVE,
        Action.PRESERVE_EVIDENCE,
        Action.SUSPEND_ACCOUNT,
        Action.NOTIFY_USER,
        Action.BAN_CHANNEL,
        Action.REPORT_HOTLINE,
    }
    # Vigil's own duties never go to the platform
    assert decision.platform_actions == decision.actions - {Action.PRESERVE_EVIDENCE, Action.REPORT_HOTLINE}


# --- category and ground ---------------------------------------------------------------------------


def test_category_and_ground_come_from_the_most_severe_outcome() -> None:
    label_spam = policy("a-spam", Action.LABEL, category=Category.SPAM)
    remove_fraud = policy("b-fraud", Action.REMOVE, category=Category.FRAUD)
    demote_drugs = policy(
        "c-drugs", Action.DEMOTE, category=Category.DRUGS, ground=GroundType.ILLEGAL_CONTENT
    )

    decision = decide([label_spam, remove_fraud, demote_drugs])

    assert decision.category is Category.FRAUD
    assert decision.ground is not None
    assert decision.ground.reference == "b-fraud rule"
    # the others, by severity, without repeating the main category
    assert decision.additional_categories == (Category.DRUGS, Category.SPAM)


def test_equally_severe_outcomes_are_ordered_by_policy_id() -> None:
    decision = decide(
        [
            policy("z-scam", Action.REMOVE, category=Category.FRAUD),
            policy("a-drugs", Action.REMOVE, category=Category.DRUGS),
        ]
    )

    assert decision.category is Category.DRUGS
    assert decision.additional_categories == (Category.FRAUD,)


def test_additional_categories_name_each_other_category_once() -> None:
    decision = decide(
        [
            policy("a", Action.REMOVE, category=Category.TERRORISM),
            policy("b", Action.DEMOTE, category=Category.SPAM),
            policy("c", Action.LABEL, category=Category.SPAM),
            policy("d", Action.LABEL, category=Category.TERRORISM),
        ]
    )

    assert decision.category is Category.TERRORISM
    assert decision.additional_categories == (Category.SPAM,)


# --- review ----------------------------------------------------------------------------------------


def test_review_is_needed_when_any_matched_policy_asks_for_it() -> None:
    certain = policy("certain", Action.REMOVE)
    unsure = policy("unsure", Action.DEMOTE, review=ReviewMode.AFTER)

    assert decide([certain, unsure]).review is ReviewMode.AFTER
    assert decide([certain, unsure]).actions == {Action.REMOVE}
    assert decide([certain]).review_needed is False


def test_review_before_holds_the_restrictions_but_not_vigils_own_duties() -> None:
    law = policy(
        "de-law", Action.GEO_RESTRICT, Action.PRESERVE_EVIDENCE, countries=("DE",), review=ReviewMode.BEFORE
    )

    decision = decide([law])

    assert decision.review is ReviewMode.BEFORE
    assert decision.actions == {Action.PRESERVE_EVIDENCE}
    assert decision.held_actions == {Action.GEO_RESTRICT}
    assert decision.platform_actions == frozenset()  # nothing is sent to the platform yet
    assert decision.outcome == "review"
    assert decision.territorial_scope == TerritorialScope.of(["DE"])
    # with a policy that asks for review after acting, before wins: the case waits for a person
    assert decide([law, policy("spam", Action.DEMOTE, review=ReviewMode.AFTER)]).review is ReviewMode.BEFORE


def test_review_before_holds_only_what_no_other_matched_policy_asks_for_now() -> None:
    known = policy("known", Action.REMOVE, Action.PRESERVE_EVIDENCE)
    careful = policy("careful", Action.REMOVE, Action.SUSPEND_ACCOUNT, review=ReviewMode.BEFORE)
    mild = policy("mild", Action.DEMOTE)
    harsh = policy("harsh", Action.REMOVE, review=ReviewMode.BEFORE)

    both = decide([known, careful])
    milder_now = decide([mild, harsh])

    assert (both.actions, both.held_actions) == (
        {Action.REMOVE, Action.PRESERVE_EVIDENCE},
        {Action.SUSPEND_ACCOUNT},
    )
    assert (milder_now.actions, milder_now.held_actions) == ({Action.DEMOTE}, {Action.REMOVE})
    assert milder_now.review is ReviewMode.BEFORE


def test_a_decision_counts_the_strikes_of_the_restrictions_it_puts_in_force() -> None:
    def striking(
        policy_id: str, weight: int, *actions: Action, review: ReviewMode | None = None
    ) -> CompiledPolicy:
        text = "\n".join(
            [
                f"id: {policy_id}",
                'when: "true"',
                "category: fraud",
                "ground: {type: incompatible_content, reference: T, explanation: E}",
                f"actions: [{', '.join(a.value for a in actions)}]",
                f"strikes: {weight}",
                *([f"review: {review.value}"] if review else []),
            ]
        )
        (definition,) = parse_policies(text + "\n")
        return compile_policy(definition, 1)

    assert decide([striking("a", 3, Action.REMOVE), striking("b", 1, Action.DEMOTE)]).strikes == 3
    # a held restriction counts once a reviewer confirms it; Vigil's own duties never count
    assert decide([striking("held", 3, Action.REMOVE, review=ReviewMode.BEFORE)]).strikes == 0
    assert decide([striking("duty", 3, Action.PRESERVE_EVIDENCE)]).strikes == 0


def test_policy_asking_only_for_review_sends_the_item_to_review_without_acting() -> None:
    unsure = policy("unsure", category=Category.HATE_SPEECH, review=ReviewMode.BEFORE)

    decision = decide([unsure])

    assert decision.actions == frozenset()
    assert decision.review_needed is True
    assert decision.outcome == "review"
    assert decision.category is Category.HATE_SPEECH


def test_policy_that_fails_on_an_item_sends_it_to_review_instead_of_passing_it() -> None:
    # loads (the sample item has media) but cannot be evaluated on a text-only post
    first_media = policy("first-media", Action.REMOVE, when="content.media[0].md5 == 'ab'")
    spam = policy("spam", Action.DEMOTE)

    assert decide([first_media]).outcome == "review"
    decision = decide([first_media, spam])
    assert decision.actions == {Action.DEMOTE}
    assert decision.review is ReviewMode.AFTER
    assert decision.policies == (PolicyRef("spam", 1),)


# --- shadow mode -----------------------------------------------------------------------------------


def test_shadow_policy_never_acts_but_is_recorded_beside_the_decision() -> None:
    live = policy("live", Action.DEMOTE)
    trial = policy("trial", Action.REMOVE, Action.SUSPEND_ACCOUNT, category=Category.FRAUD, shadow=True)

    decision = decide([live, trial])

    assert decision.actions == {Action.DEMOTE}
    assert decision.category is Category.SPAM
    assert decision.policies == (PolicyRef("live", 1),)
    (recorded,) = decision.shadow
    assert recorded.policy == PolicyRef("trial", 1)
    assert recorded.mode is PolicyMode.SHADOW
    assert recorded.actions == {Action.REMOVE, Action.SUSPEND_ACCOUNT}
    assert recorded.category is Category.FRAUD


def test_shadow_only_match_takes_no_action() -> None:
    trial = policy("trial", Action.REMOVE, review=ReviewMode.BEFORE, shadow=True)

    decision = decide([trial])

    assert decision.actions == frozenset()
    assert decision.outcome == "no_action"
    assert decision.review_needed is False
    assert decision.category is None
    assert decision.policies == ()
    assert [o.policy.id for o in decision.shadow] == ["trial"]


def test_decision_survives_a_round_trip_through_json() -> None:
    decision = decide(
        [
            policy(
                "de-law",
                Action.GEO_RESTRICT,
                Action.PRESERVE_EVIDENCE,
                countries=("DE",),
                review=ReviewMode.BEFORE,
            ),
            policy("spam", Action.DEMOTE, category=Category.FRAUD),
            policy("trial", Action.REMOVE, shadow=True),
        ],
        signals=[classifier(Category.SPAM, 0.5)],
    )

    assert decision_from_json(json.loads(json.dumps(decision_to_json(decision)))) == decision


# --- merge_outcomes: properties over any set of matched policies ----------------------------------

_COUNTRIES = ("AT", "BE", "DE", "FR", "PL", "US")
_ILLEGAL = Ground(GroundType.ILLEGAL_CONTENT, "a law", "why")
_TERMS = Ground(GroundType.INCOMPATIBLE_CONTENT, "a terms clause", "why")


def _subsets(items: Sequence[T], min_size: int = 0) -> st.SearchStrategy[frozenset[T]]:
    """Subsets of ``items`` drawn as a bit mask: far cheaper for hypothesis than ``st.frozensets``."""
    masks = st.integers(0, 2 ** len(items) - 1).filter(lambda m: m.bit_count() >= min_size)
    return masks.map(lambda m: frozenset(x for i, x in enumerate(items) if m >> i & 1))


_action_sets = _subsets(list(Action))
_country_sets = _subsets(_COUNTRIES, min_size=1)
_policy_refs = st.builds(PolicyRef, st.sampled_from(["p-a", "p-b", "p-c", "p-d"]), st.just(1))
_categories = st.sampled_from(list(Category))
_grounds = st.sampled_from([_ILLEGAL, _TERMS])


@st.composite
def outcomes(draw: st.DrawFn) -> PolicyOutcome:
    """What one matched policy asked for; the loader guarantees countries exactly when geo-restricting."""
    actions = draw(_action_sets)
    scope = TerritorialScope.of(draw(_country_sets)) if Action.GEO_RESTRICT in actions else GLOBAL
    return PolicyOutcome(
        policy=draw(_policy_refs),
        mode=PolicyMode.ENFORCE,
        category=draw(_categories),
        ground=draw(_grounds),
        actions=actions,
        territorial_scope=scope,
        review=draw(st.sampled_from([None, ReviewMode.BEFORE, ReviewMode.AFTER])),
    )


MERGE_SETTINGS = settings(max_examples=100, deadline=None)
matched = st.lists(outcomes(), max_size=6)


@MERGE_SETTINGS
@given(matched)
def test_merged_result_has_at_most_one_visibility_and_it_is_the_most_severe_requested(
    matched: list[PolicyOutcome],
) -> None:
    actions, _ = merge_outcomes(matched)

    requested = {a for o in matched for a in o.actions}
    visibility = [a for a in VISIBILITY_SEVERITY if a in actions]
    assert len(visibility) <= 1
    most_severe_requested = [a for a in VISIBILITY_SEVERITY if a in requested][:1]
    assert visibility == most_severe_requested


@MERGE_SETTINGS
@given(matched)
def test_merged_scope_is_global_unless_geo_restriction_wins_then_it_is_the_union_of_its_countries(
    matched: list[PolicyOutcome],
) -> None:
    actions, scope = merge_outcomes(matched)

    if Action.GEO_RESTRICT in actions:
        expected: set[str] = set()
        for outcome in matched:
            if Action.GEO_RESTRICT in outcome.actions:
                expected |= outcome.territorial_scope.countries or set()
        assert scope == TerritorialScope(frozenset(expected))
    else:
        assert scope == GLOBAL


@MERGE_SETTINGS
@given(matched)
def test_merged_account_and_ancillary_actions_are_exactly_those_requested(
    matched: list[PolicyOutcome],
) -> None:
    actions, _ = merge_outcomes(matched)

    non_competing = ACCOUNT_ACTIONS | ANCILLARY_ACTIONS
    requested = {a for o in matched for a in o.actions if a in non_competing}
    assert actions & non_competing == requested
    assert actions - non_competing <= set(VISIBILITY_SEVERITY)


@MERGE_SETTINGS
@given(matched)
def test_merge_does_not_depend_on_the_order_policies_matched_in(matched: list[PolicyOutcome]) -> None:
    assert merge_outcomes(matched) == merge_outcomes(list(reversed(matched)))


# shadow policies, as a property of the whole engine: adding any of them never changes what is done

_LIVE_POOL = (
    ("live-remove", (Action.REMOVE, Action.PRESERVE_EVIDENCE), ()),
    ("live-geo", (Action.GEO_RESTRICT,), ("DE", "FR")),
    ("live-demote", (Action.DEMOTE, Action.NOTIFY_USER), ()),
    ("live-suspend", (Action.SUSPEND_ACCOUNT,), ()),
)


@cache
def _pool(shadow: bool) -> tuple[CompiledPolicy, ...]:
    prefix = "trial" if shadow else "live"
    return tuple(
        policy(
            name.replace("live", prefix),
            *actions,
            countries=countries,
            shadow=shadow,
            when=f"signals.exists(s, s.label == '{name.removeprefix('live-')}')",
        )
        for name, actions, countries in _LIVE_POOL
    )


_LABELS = [name.removeprefix("live-") for name, _, _ in _LIVE_POOL]


@settings(max_examples=40, deadline=None)
@given(
    live=st.sets(st.integers(0, len(_LIVE_POOL) - 1)),
    trial=st.sets(st.integers(0, len(_LIVE_POOL) - 1)),
    labels=st.sets(st.sampled_from(_LABELS)),
)
def test_adding_shadow_policies_never_changes_what_is_done(
    live: set[int], trial: set[int], labels: set[str]
) -> None:
    signals = [classifier(Category.SPAM, 0.9, label) for label in sorted(labels)]
    live_policies = [_pool(False)[i] for i in sorted(live)]
    trial_policies = [_pool(True)[i] for i in sorted(trial)]

    without = decide(live_policies, signals=signals)
    with_shadow = decide(live_policies + trial_policies, signals=signals)

    assert with_shadow.actions == without.actions
    assert with_shadow.territorial_scope == without.territorial_scope
    assert with_shadow.category == without.category
    assert with_shadow.review_needed == without.review_needed
    assert with_shadow.policies == without.policies
    assert {o.policy.id for o in with_shadow.shadow} == {
        f"trial-{_LABELS[i]}" for i in trial if _LABELS[i] in labels
    }


# --- the default pack ------------------------------------------------------------------------------


@cache
def default_pack() -> PolicySet:
    return PolicySet([compile_policy(d, 1) for d in load_policy_paths([DEFAULT_PACK])])


def test_default_pack_removes_known_csam_preserves_evidence_reports_and_suspends() -> None:
    decision = default_pack().decide(
        item(media=(photo(),)), [hash_match(Category.CSAM, "ncmec")], DecisionContext()
    )

    assert decision.actions == {
        Action.REMOVE,
        Action.PRESERVE_EVIDENCE,
        Action.REPORT_HOTLINE,
        Action.SUSPEND_ACCOUNT,
    }
    assert decision.category is Category.CSAM
    assert decision.ground is not None
    assert decision.ground.type is GroundType.ILLEGAL_CONTENT
    assert decision.territorial_scope == GLOBAL
    assert (
        decision.review is ReviewMode.AFTER
    )  # removed at once; a person confirms before the hotline is told
    assert decision.policies == (PolicyRef("csam-known-media", 1),)
    assert decision.platform_actions == {Action.REMOVE, Action.SUSPEND_ACCOUNT}


def test_default_pack_would_withhold_holocaust_denial_only_where_illegal_once_a_reviewer_agrees() -> None:
    signal = classifier(Category.HATE_SPEECH, 0.9, label="holocaust_denial")

    decision = default_pack().decide(item(), [signal], DecisionContext())

    # speech is restricted by a person, not a lexicon: the restriction waits for review
    assert decision.review is ReviewMode.BEFORE
    assert (decision.actions, decision.held_actions) == (frozenset(), {Action.GEO_RESTRICT})
    assert decision.territorial_scope.countries is not None
    assert {"DE", "AT", "FR"} <= decision.territorial_scope.countries
    assert "US" not in decision.territorial_scope.countries
    assert decision.category is Category.HATE_SPEECH
    assert decision.review_needed is True
    assert decision.policies == (PolicyRef("hate-speech-holocaust-denial", 1),)


def test_default_pack_holds_adult_nudity_in_public_for_a_reviewer_and_ignores_a_reported_private_message() -> (
    None
):
    nudity = classifier(Category.ADULT_NUDITY, 0.95)

    private = default_pack().decide(
        item(Audience.PRIVATE_REPORTED, media=(photo(),)), [nudity], DecisionContext()
    )
    public = default_pack().decide(item(Audience.PUBLIC, media=(photo(),)), [nudity], DecisionContext())

    assert private.outcome == "no_action"
    assert private.actions == frozenset()
    # the model's precision on real nudity is not measured: a person confirms before it restricts
    assert public.actions == frozenset()
    assert public.held_actions == {Action.AGE_RESTRICT}
    assert public.review is ReviewMode.BEFORE


def test_default_pack_removes_a_sexual_deepfake_of_a_person_who_reported_their_image() -> None:
    ai_generated = Signal(
        detector="c2pa", kind=SignalKind.PROVENANCE, category=None, score=1.0, label="ai_generated"
    )
    nudity = classifier(Category.ADULT_NUDITY, 0.7)
    reported = hash_match(Category.NCII, "stopncii")

    deepfake = default_pack().decide(
        item(media=(photo(),)), [ai_generated, nudity, reported], DecisionContext()
    )
    unreported = default_pack().decide(item(media=(photo(),)), [ai_generated, nudity], DecisionContext())

    assert deepfake.outcome == "remove"
    assert {Action.REMOVE, Action.PRESERVE_EVIDENCE} <= deepfake.actions
    assert deepfake.review_needed is True
    assert PolicyRef("ncii-synthetic-of-reported-person", 1) in deepfake.policies
    # AI-generated and somewhat explicit, but nobody reported it: no action on the item by itself
    assert unreported.outcome == "no_action"


@pytest.mark.parametrize(
    ("category", "policy_id", "actions"),
    [
        (Category.GROOMING, "grooming-suspected", {Action.PRESERVE_EVIDENCE}),
        (Category.NCII, "ncii-sextortion-suspected", {Action.PRESERVE_EVIDENCE}),
        (Category.TERRORISM, "terrorism-suspected", {Action.PRESERVE_EVIDENCE}),
    ],
)
def test_default_pack_sends_confident_text_findings_of_grave_harms_to_review_under_their_own_category(
    category: Category, policy_id: str, actions: set[Action]
) -> None:
    decision = default_pack().decide(item(text="..."), [classifier(category, 0.95)], DecisionContext())
    unsure = default_pack().decide(item(text="..."), [classifier(category, 0.3)], DecisionContext())

    assert decision.category == category
    assert decision.policies == (PolicyRef(policy_id, 1),)
    assert decision.review_needed is True
    assert decision.actions == actions
    assert (unsure.outcome, unsure.review_needed) == ("no_action", False)


def context(frame: str) -> Signal:
    return Signal(detector="text_classifier", kind=SignalKind.CONTEXT, category=None, score=1.0, label=frame)


def text_classifier(category: Category, score: float) -> Signal:
    return Signal(detector="text_classifier", kind=SignalKind.CLASSIFIER, category=category, score=score)


@pytest.mark.parametrize(
    ("category", "acting", "held", "actions"),
    [
        (Category.DRUGS, "drugs-sale", "drugs-sale-suspected", {Action.REMOVE}),
        (Category.FRAUD, "fraud-scam", "fraud-scam-suspected", {Action.REMOVE}),
        (Category.SPAM, "spam", "spam-suspected", {Action.DEMOTE}),
        (Category.HATE_SPEECH, "hate-speech-incitement", "hate-speech-suspected", {Action.DEMOTE}),
        (Category.NCII, "ncii-sextortion", "ncii-sextortion-suspected", {Action.DEMOTE}),
    ],
)
def test_default_pack_acts_alone_only_from_the_measured_score_and_never_on_a_text_in_context(
    category: Category, acting: str, held: str, actions: set[Action]
) -> None:
    pack = default_pack()
    sure = pack.decide(item(text="..."), [text_classifier(category, 0.95)], DecisionContext())
    unsure = pack.decide(item(text="..."), [text_classifier(category, 0.7)], DecisionContext())
    in_context = pack.decide(
        item(text="..."), [text_classifier(category, 0.99), context("news")], DecisionContext()
    )
    nothing = pack.decide(item(text="..."), [text_classifier(category, 0.4)], DecisionContext())

    assert sure.policies == (PolicyRef(acting, 1),)
    assert actions <= sure.actions
    for held_back in (unsure, in_context):
        assert held_back.policies == (PolicyRef(held, 1),)
        assert held_back.review is ReviewMode.BEFORE
        assert not held_back.actions & actions
        assert actions <= held_back.held_actions
    assert (nothing.outcome, nothing.review_needed) == ("no_action", False)
    # another classifier's score (a plugin's), whose precision Vigil has not measured, is only routed
    plugin = pack.decide(item(text="..."), [classifier(category, 0.99)], DecisionContext())
    assert plugin.policies == (PolicyRef(held, 1),)
    assert not plugin.actions & actions


def test_default_pack_leaves_a_text_only_post_without_signals_alone() -> None:
    decision = default_pack().decide(item(text="Lovely weather in Berlin today"), [], DecisionContext())

    assert decision.outcome == "no_action"
    assert decision.review_needed is False
    assert decision.automated_detection is False
    assert decision.shadow == ()


def test_default_pack_never_sends_vigils_own_duties_to_the_platform() -> None:
    decision = default_pack().decide(
        item(media=(photo(),)),
        [hash_match(Category.CSAM, "ncmec"), hash_match(Category.TERRORISM, "gifct")],
        DecisionContext(),
    )

    assert decision.platform_actions <= PLATFORM_ACTIONS
    assert Action.PRESERVE_EVIDENCE not in decision.platform_actions
    assert Action.REPORT_HOTLINE not in decision.platform_actions


def test_the_contents_own_restriction_picks_the_category_over_an_account_suspension() -> None:
    spam_account = policy("a-spam-account", Action.SUSPEND_ACCOUNT, category=Category.SPAM)
    terror = policy("b-terror", Action.REMOVE, category=Category.TERRORISM, ground=GroundType.ILLEGAL_CONTENT)

    decision = decide([spam_account, terror])

    assert decision.actions == {Action.REMOVE, Action.SUSPEND_ACCOUNT}
    assert decision.outcome == "remove"
    assert decision.category is Category.TERRORISM
    assert decision.additional_categories == (Category.SPAM,)
