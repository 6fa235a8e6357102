"""The safeguards' assessment of an order: pure, from the order, its targets and the operator's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigil.domain.content import Audience, Content, ContentKind
from vigil.domain.orders import OrderType
from vigil.intake.safeguards import (
    LegalConfigError,
    OrderFacts,
    PhraseSet,
    SafeguardFlag,
    assess,
    load_legal_config,
    parse_legal_config,
)

CONFIG = load_legal_config()
ORDINARY = "Join our channel for the attack videos."


def content(text: str, author: str = "u1", channel: str = "c1") -> Content:
    return Content(
        id=f"item-{abs(hash(text))}",
        kind=ContentKind.POST,
        audience=Audience.PUBLIC,
        author_id=author,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        channel_id=channel,
        text=text,
    )


def facts(
    order_type: OrderType = OrderType.TERRORIST_REMOVAL, country: str = "FR", **extra: object
) -> OrderFacts:
    values: dict[str, object] = {
        "type": order_type,
        "country": country,
        "legal_basis": "Regulation (EU) 2021/784, Art. 3",
        "statement_of_reasons": "Propaganda of a terrorist organisation.",
        "scope_requested_global": False,
        "accounts": (),
        "missing_locations": (),
        **extra,
    }
    return OrderFacts(**values)  # type: ignore[arg-type]


def test_a_member_state_s_removal_order_with_nothing_found_runs_automatically() -> None:
    assessment = assess(facts(), CONFIG, [content(ORDINARY)])

    assert assessment.auto_execute
    assert not assessment.senior_review
    assert assessment.findings == ()


def test_orders_from_jurisdictions_the_configuration_does_not_name_go_to_senior_review() -> None:
    assessment = assess(facts(OrderType.PRESERVATION, country="BR"), CONFIG, [content(ORDINARY)])

    assert not assessment.auto_execute
    assert assessment.senior_review
    assert assessment.flags == {SafeguardFlag.JURISDICTION_REVIEW}


def test_a_flagged_jurisdiction_is_never_automatic_even_for_types_it_lists() -> None:
    config = parse_legal_config(
        "jurisdictions:\n  default: {}\n  HU: {auto_execute: [tco_removal], flagged: true, note: rule of law}\n"
    )

    assessment = assess(facts(country="HU"), config, [content(ORDINARY)])

    assert not assessment.auto_execute
    assert assessment.senior_review
    assert [f.detail for f in assessment.findings] == ["rule of law"]


@pytest.mark.parametrize(
    "text",
    [
        "Our JOURNALIST filmed the police at the demonstration",
        "Rassemblement pacifique devant la préfecture, venez nombreux",
        "Митинг оппозиции в субботу",
        "Ｐｒｏｔｅｓｔ tomorrow at noon",  # noqa: RUF001 - fullwidth letters, as evasion or as style
    ],
)
def test_reporting_protest_and_political_speech_hold_the_order_for_senior_review(text: str) -> None:
    assessment = assess(facts(), CONFIG, [content(text)])

    assert not assessment.auto_execute
    assert assessment.senior_review
    assert SafeguardFlag.PROTECTED_SPEECH in assessment.flags


def test_a_registered_journalist_s_account_or_channel_is_protected() -> None:
    config = parse_legal_config(
        "jurisdictions: {default: {}}\nprotected:\n  accounts: {reporter-1: journalist}\n"
        "  channels: {newsroom: news_media}\n"
    )

    by_author = assess(facts(), config, [content(ORDINARY, author="reporter-1")])
    by_channel = assess(facts(), config, [content(ORDINARY, channel="newsroom")])
    by_account = assess(facts(OrderType.PROVIDE_INFORMATION, accounts=("reporter-1",)), config, [])

    for assessment in (by_author, by_channel, by_account):
        assert SafeguardFlag.PROTECTED_TARGET in assessment.flags
        assert assessment.senior_review


def test_an_order_resting_on_an_offence_used_against_speech_is_held() -> None:
    order = facts(
        legal_basis="Art. 207.3: public dissemination of knowingly false information, discrediting the army"
    )

    assessment = assess(order, CONFIG, [content(ORDINARY)])

    assert SafeguardFlag.SPEECH_OFFENCE in assessment.flags
    assert assessment.senior_review


def test_disclosure_is_never_automatic_and_needs_two_approvals() -> None:
    config = parse_legal_config("jurisdictions: {default: {auto_execute: [dsa_art10]}}")

    assessment = assess(facts(OrderType.PROVIDE_INFORMATION, accounts=("u1",)), config, [])

    assert not assessment.auto_execute
    assert assessment.approvals_required == 2
    assert SafeguardFlag.DISCLOSURE in assessment.flags


def test_a_worldwide_order_to_act_on_national_law_is_narrowed() -> None:
    assessment = assess(
        facts(OrderType.ACT_AGAINST_CONTENT, scope_requested_global=True), CONFIG, [content(ORDINARY)]
    )

    assert SafeguardFlag.SCOPE_NARROWED in assessment.flags
    assert not assessment.senior_review


def test_a_location_that_names_nothing_known_stops_automatic_execution() -> None:
    assessment = assess(facts(missing_locations=("https://example.social/p/404",)), CONFIG, [])

    assert not assessment.auto_execute
    assert SafeguardFlag.CONTENT_NOT_FOUND in assessment.flags


def test_phrases_match_whole_words_or_declared_prefixes() -> None:
    assert PhraseSet(["protest*"]).first_in("the protesters gathered") == "protest*"
    assert PhraseSet(["protest"]).first_in("the protesters gathered") is None
    assert PhraseSet(["rally", "election*"]).first_in("Élection présidentielle") == "election*"
    assert PhraseSet(["x"]).first_in("") is None
    assert PhraseSet([]).first_in("anything") is None


def test_platform_urls_resolve_to_content_ids_by_the_configured_patterns() -> None:
    assert CONFIG.content_id_of("https://example.social/p/post-7") == "post-7"
    assert CONFIG.content_id_of("https://example.social/c/news/post-8") == "post-8"
    assert CONFIG.content_id_of("https://elsewhere.example/p/post-7") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("jurisdictions: {FR: {}}", "default"),
        ("jurisdictions: {default: {}, XX: {}}", "unknown country"),
        ("jurisdictions: {default: {auto_execute: [nuke]}}", "auto_execute"),
        ("jurisdictions: {default: {}}\nlocations: [{pattern: '^https://x/(.*)$'}]", "content_id"),
        ("jurisdictions: {default: {}}\nsurprise: 1", "surprise"),
        ("[unclosed", "not YAML"),
    ],
)
def test_a_broken_legal_configuration_is_refused_with_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(LegalConfigError, match=problem):
        parse_legal_config(text, "legal.yaml")
