"""Review queues: cases go to the first matching rule's queue, each queue is closed to the roles it does
not name, and a bad configuration is refused with every problem located."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.domain.cases import CaseReason, RoutingFacts
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.review.queues import (
    MAX_CONFIG_BYTES,
    QueueConfig,
    QueueConfigError,
    QueueConfigProblem,
    RoutingRule,
    UnknownQueueError,
    load_queue_config,
    parse_queue_config,
)


def facts(
    reason: CaseReason = CaseReason.REVIEW_BEFORE,
    category: Category | None = None,
    source: str = "voluntary",
    language: str = "",
    country: str = "",
) -> RoutingFacts:
    return RoutingFacts(reason=reason, category=category, source=source, language=language, country=country)


@pytest.fixture(scope="module")
def default() -> QueueConfig:
    return load_queue_config()


# --- the default routing table -------------------------------------------------------------------

R, C = CaseReason, Category
DEFAULT_ROUTES = [
    # child safety wins over everything, so abuse material stays with the roles allowed to see it
    (facts(R.REVIEW_BEFORE, C.CSAM), "child_safety"),
    (facts(R.NOTICE, C.GROOMING, "notice"), "child_safety"),
    (facts(R.APPEAL, C.CSAM, "notice"), "child_safety"),
    (facts(R.APPEAL, C.GROOMING, "voluntary"), "child_safety"),
    (facts(R.NOTICE, C.CSAM, "authority_order"), "child_safety"),
    (facts(R.QA_SAMPLE, C.CSAM), "child_safety"),
    # then authority orders, whatever their category or reason
    (facts(R.NOTICE, C.TERRORISM, "authority_order"), "authority_orders"),
    (facts(R.NOTICE, None, "authority_order"), "authority_orders"),
    (facts(R.APPEAL, C.FRAUD, "authority_order"), "authority_orders"),
    # then appeals and the quality sample
    (facts(R.APPEAL, C.HATE_SPEECH, "voluntary"), "appeals"),
    (facts(R.APPEAL, C.TERRORISM, "trusted_flagger"), "appeals"),
    (facts(R.QA_SAMPLE, C.SPAM), "qa"),
    (facts(R.QA_SAMPLE, C.TERRORISM), "qa"),
    # then the category queues
    (facts(R.REVIEW_AFTER, C.TERRORISM), "terrorism"),
    (facts(R.NOTICE, C.TERRORISM, "trusted_flagger"), "terrorism"),
    (facts(R.NOTICE, C.NCII, "notice"), "ncii"),
    # then trusted flaggers' notices on anything else
    (facts(R.NOTICE, C.HATE_SPEECH, "trusted_flagger"), "trusted_flaggers"),
    (facts(R.NOTICE, None, "trusted_flagger"), "trusted_flaggers"),
    # and everything else
    (facts(R.NOTICE, C.HATE_SPEECH, "notice"), "general"),
    (facts(R.REVIEW_BEFORE, C.SPAM), "general"),
    (facts(R.REVIEW_AFTER, None), "general"),
    (facts(R.NOTICE, C.ADULT_NUDITY, "reviewer", "de", "DE"), "general"),
]


@pytest.mark.parametrize(("case", "queue"), DEFAULT_ROUTES)
def test_default_configuration_routes_each_kind_of_case(
    default: QueueConfig, case: RoutingFacts, queue: str
) -> None:
    assert default.route(case) == queue


def test_every_default_queue_but_escalations_is_reached_by_routing(default: QueueConfig) -> None:
    assert {queue for _, queue in DEFAULT_ROUTES} == set(default.queues) - {"escalations"}


def test_default_queues_are_listed_in_file_order(default: QueueConfig) -> None:
    assert list(default.queues) == [
        "child_safety",
        "terrorism",
        "authority_orders",
        "trusted_flaggers",
        "ncii",
        "appeals",
        "qa",
        "escalations",
        "general",
    ]
    assert default.default_queue == "general"


def test_every_default_queue_escalates_to_escalations_which_escalates_nowhere(default: QueueConfig) -> None:
    for queue in default.queues.values():
        expected = None if queue.name == "escalations" else "escalations"
        assert queue.escalate_to == expected, queue.name


def test_queues_that_can_hold_the_most_harmful_material_are_sensitive(default: QueueConfig) -> None:
    # escalations receive child-safety and terrorism cases; authority orders terrorist removal orders
    assert {q.name for q in default.queues.values() if q.sensitive} == {
        "child_safety",
        "terrorism",
        "ncii",
        "authority_orders",
        "escalations",
    }


def test_every_default_queue_has_a_description(default: QueueConfig) -> None:
    assert all(queue.description for queue in default.queues.values())


# --- who sees which queue ------------------------------------------------------------------------


def test_a_reviewer_does_not_see_the_child_safety_queue(default: QueueConfig) -> None:
    assert "child_safety" not in {q.name for q in default.visible_to(Role.REVIEWER)}
    assert not default.may_review("child_safety", Role.REVIEWER)
    assert default.may_review("terrorism", Role.REVIEWER)


def test_a_child_safety_reviewer_sees_the_child_safety_queue_and_nothing_else(default: QueueConfig) -> None:
    assert [q.name for q in default.visible_to(Role.CHILD_SAFETY_REVIEWER)] == ["child_safety"]
    assert default.may_review("child_safety", Role.CHILD_SAFETY_REVIEWER)
    assert not default.may_review("general", Role.CHILD_SAFETY_REVIEWER)


def test_an_admin_sees_no_queue_unless_it_is_listed(default: QueueConfig) -> None:
    assert default.visible_to(Role.ADMIN) == []
    assert not default.may_review("child_safety", Role.ADMIN)

    listed = parse_queue_config(
        "queues:\n  general:\n    roles: [reviewer, admin]\n  other:\n    roles: [reviewer]\n"
        "default_queue: general\n"
    )
    assert [q.name for q in listed.visible_to(Role.ADMIN)] == ["general"]
    assert listed.may_review("general", Role.ADMIN)
    assert not listed.may_review("other", Role.ADMIN)


def test_senior_reviewers_see_every_default_queue_and_legal_only_authority_orders(
    default: QueueConfig,
) -> None:
    assert [q.name for q in default.visible_to(Role.SENIOR_REVIEWER)] == list(default.queues)
    assert [q.name for q in default.visible_to(Role.LEGAL)] == ["authority_orders"]


@pytest.mark.parametrize("role", [Role.PLATFORM, Role.AUDITOR, Role.TRUSTED_FLAGGER, Role.AUTHORITY])
def test_roles_that_do_not_review_see_no_queue(default: QueueConfig, role: Role) -> None:
    assert default.visible_to(role) == []


def test_an_unknown_queue_is_an_error_that_names_the_queues(default: QueueConfig) -> None:
    with pytest.raises(UnknownQueueError, match=r"'child_safty' \(did you mean 'child_safety'\?\)"):
        default.queue("child_safty")
    with pytest.raises(UnknownQueueError, match="the queues are child_safety, terrorism"):
        default.may_review("nope", Role.SENIOR_REVIEWER)
    assert default.queue("qa").roles == {Role.SENIOR_REVIEWER}


def test_an_unknown_queue_name_is_shortened_in_the_message(default: QueueConfig) -> None:
    with pytest.raises(UnknownQueueError) as caught:
        default.queue("x" * 10_000)
    assert len(str(caught.value)) < 500


def test_the_loaded_configuration_cannot_be_changed(default: QueueConfig) -> None:
    with pytest.raises(TypeError):
        default.queues["general"] = default.queues["qa"]  # type: ignore[index]


# --- routing rules -------------------------------------------------------------------------------

TWO_RULES = """\
queues:
  german:
    roles: [reviewer]
  hate:
    roles: [reviewer]
  general:
    roles: [reviewer]
rules:
  - queue: {first}
    {first_condition}
  - queue: {second}
    {second_condition}
default_queue: general
"""


def two_rules(first: str, first_condition: str, second: str, second_condition: str) -> QueueConfig:
    return parse_queue_config(
        TWO_RULES.format(
            first=first, first_condition=first_condition, second=second, second_condition=second_condition
        )
    )


def test_the_first_matching_rule_wins() -> None:
    german_hate = facts(R.NOTICE, C.HATE_SPEECH, "notice", "de", "DE")

    german_first = two_rules("german", "languages: [de]", "hate", "categories: [hate_speech]")
    hate_first = two_rules("hate", "categories: [hate_speech]", "german", "languages: [de]")

    assert german_first.route(german_hate) == "german"
    assert hate_first.route(german_hate) == "hate"


def test_a_rule_matches_only_when_every_condition_it_names_holds() -> None:
    config = two_rules(
        "hate", "categories: [hate_speech]\n    countries: [DE, AT]", "german", "languages: [de]"
    )

    assert config.route(facts(category=C.HATE_SPEECH, country="AT")) == "hate"
    assert config.route(facts(category=C.HATE_SPEECH, country="FR")) == "general"
    assert config.route(facts(category=C.SPAM, country="DE")) == "general"


def test_a_case_of_unknown_language_or_country_goes_to_the_default_queue() -> None:
    config = two_rules("german", "languages: [de]", "hate", "countries: [DE]")

    assert config.route(facts(language="de")) == "german"
    assert config.route(facts(language="")) == "general"
    assert config.route(facts(language="fr")) == "general"
    assert config.route(facts(country="")) == "general"


def test_codes_match_whatever_their_case() -> None:
    config = two_rules("german", "languages: [DE]", "hate", "countries: [at]")

    assert config.rules[0].languages == {"de"}
    assert config.rules[1].countries == {"AT"}
    assert config.route(facts(language="DE")) == "german"
    assert config.route(facts(country="at")) == "hate"


def test_norwegian_is_a_language_and_a_country_not_false() -> None:
    config = two_rules("german", "languages: [no, nb]", "hate", "countries: [NO]")

    assert config.rules[0].languages == {"no", "nb"}
    assert config.route(facts(language="no")) == "german"
    assert config.route(facts(country="NO")) == "hate"


def test_a_rule_without_a_category_condition_takes_uncategorised_cases() -> None:
    config = two_rules("german", "sources: [notice]", "hate", "categories: [hate_speech]")

    assert config.route(facts(R.NOTICE, None, "notice")) == "german"
    assert config.route(facts(R.NOTICE, None, "voluntary")) == "general"


def test_an_earlier_broader_rule_covers_a_later_narrower_one() -> None:
    broad = RoutingRule("a", categories=frozenset({C.SPAM, C.FRAUD}))
    narrow = RoutingRule("b", categories=frozenset({C.SPAM}), languages=frozenset({"de"}))

    assert broad.covers(narrow)
    assert not narrow.covers(broad)
    assert RoutingRule("a", languages=frozenset({"de"})).covers(narrow)
    assert not RoutingRule("a", countries=frozenset({"DE"})).covers(narrow)


# --- validation ----------------------------------------------------------------------------------

# A valid configuration; the constants after it give the line numbers the tests below rely on.
VALID = """\
queues:
  general:
    description: Everything else.
    roles: [reviewer, senior_reviewer]
    escalate_to: senior
  hate:
    roles: [reviewer, senior_reviewer]
    escalate_to: senior
  senior:
    roles: [senior_reviewer]
rules:
  - queue: hate
    categories: [hate_speech]
    countries: [DE, AT]
default_queue: general
"""
ROLES_LINE, ESCALATE_LINE, SENIOR_ROLES_LINE, RULE_LINE, CATEGORIES_LINE, COUNTRIES_LINE, DEFAULT_LINE = (
    4,
    5,
    10,
    12,
    13,
    14,
    15,
)


def with_line(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once in the template"
    return text.replace(old, new)


def refused(text: str, file: str = "queues.yaml") -> list[QueueConfigProblem]:
    """The problems that make ``text`` unloadable (fails the test if it loads)."""
    with pytest.raises(QueueConfigError) as caught:
        parse_queue_config(text, file=file)
    assert caught.value.problems, "a refusal must give at least one reason"
    assert all(p.file == file for p in caught.value.problems)
    return list(caught.value.problems)


def the_problem(text: str) -> QueueConfigProblem:
    problems = refused(text)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_valid_template_loads() -> None:
    config = parse_queue_config(VALID)

    assert list(config.queues) == ["general", "hate", "senior"]
    assert config.queue("general").description == "Everything else."
    assert config.queue("hate").description == ""
    assert config.queue("senior").escalate_to is None
    assert not config.queue("senior").sensitive
    assert config.rules == (
        RoutingRule("hate", categories=frozenset({C.HATE_SPEECH}), countries=frozenset({"DE", "AT"})),
    )


def test_a_problem_reads_as_file_line_and_reason() -> None:
    problem = the_problem(with_line(VALID, "[hate_speech]", "[hate_spech]"))

    assert str(problem) == (
        f"queue config queues.yaml line {CATEGORIES_LINE}: unknown category 'hate_spech'"
        " (did you mean 'hate_speech'?); expected one of csam, grooming, terrorism, ncii, hate_speech,"
        " drugs, fraud, spam, adult_nudity"
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("rules:", "rulez:", 11, "unknown key 'rulez' in the file (did you mean 'rules'?)"),
        (
            "    escalate_to: senior\n  hate:",
            "    escalate_too: senior\n  hate:",
            5,
            "(did you mean 'escalate_to'?)",
        ),
        (
            "    categories:",
            "    categorys:",
            CATEGORIES_LINE,
            "unknown key 'categorys' in rule 1 (did you mean 'categories'?)",
        ),
        (
            "[reviewer, senior_reviewer]\n    escalate_to: senior\n  hate",
            "[reviwer, senior_reviewer]\n    escalate_to: senior\n  hate",
            ROLES_LINE,
            "unknown role 'reviwer' (did you mean 'reviewer'?)",
        ),
        (
            "roles: [senior_reviewer]",
            "roles: [senior_reviewer, trusted_flagger]",
            SENIOR_ROLES_LINE,
            "role 'trusted_flagger' does not review cases",
        ),
        (
            "roles: [senior_reviewer]",
            "roles: [senior_reviewer, auditor]",
            SENIOR_ROLES_LINE,
            "role 'auditor' does not review cases",
        ),
        (
            "    countries: [DE, AT]",
            "    sources: [authority]",
            COUNTRIES_LINE,
            "unknown source 'authority' (did you mean 'authority_order'?)",
        ),
        (
            "    countries: [DE, AT]",
            "    reasons: [appeals]",
            COUNTRIES_LINE,
            "unknown reason 'appeals' (did you mean 'appeal'?)",
        ),
        (
            "    countries: [DE, AT]",
            "    languages: [ge]",
            COUNTRIES_LINE,
            "unknown language 'ge'; expected an ISO 639-1 code",
        ),
        ("[DE, AT]", "[DE, XX]", COUNTRIES_LINE, "unknown country code 'XX'"),
        ("[DE, AT]", "[DE, de]", COUNTRIES_LINE, "'de' is listed twice in countries of rule 1"),
        (
            "[DE, AT]",
            "[]",
            COUNTRIES_LINE,
            "countries in rule 1 lists nothing; leave the key out to accept any",
        ),
        ("[DE, AT]", "DE", COUNTRIES_LINE, "countries in rule 1 must be a list, e.g. countries: [DE, AT]"),
        (
            "  - queue: hate",
            "  - queue: hat",
            RULE_LINE,
            "rule 1 sends cases to unknown queue 'hat' (did you mean 'hate'?)",
        ),
        (
            "    escalate_to: senior\n  hate:",
            "    escalate_to: senoir\n  hate:",
            ESCALATE_LINE,
            "queue 'general' escalates to unknown queue 'senoir' (did you mean 'senior'?)",
        ),
        (
            "    escalate_to: senior\n  hate:",
            "    escalate_to: general\n  hate:",
            ESCALATE_LINE,
            "queue 'general' escalates to itself",
        ),
        (
            "default_queue: general",
            "default_queue: generl",
            DEFAULT_LINE,
            "default_queue names unknown queue 'generl' (did you mean 'general'?)",
        ),
        ("default_queue: general\n", "", 1, "missing key 'default_queue'"),
        (
            "    roles: [senior_reviewer]\n",
            "    roles: [senior_reviewer]\n  hate:\n    roles: [reviewer]\n",
            11,
            "queue 'hate' is defined twice (first at line 6)",
        ),
        (
            "  senior:",
            "  senior:\n    roles: [senior_reviewer]",
            11,
            "key 'roles' appears twice in queue 'senior' (first at line 10)",
        ),
        (
            "rules:",
            "  Hate Speech:\n    roles: [reviewer]\nrules:",
            11,
            "queue name 'Hate Speech' must be 1-63 lower-case letters",
        ),
        ("    roles: [senior_reviewer]\n", "    description: Senior.\n", 9, "queue 'senior' has no 'roles'"),
        (
            "    roles: [senior_reviewer]\n",
            "    roles: [senior_reviewer]\n    sensitive: maybe\n",
            11,
            "sensitive in queue 'senior' must be true or false",
        ),
    ],
)
def test_each_mistake_is_refused_at_its_line(old: str, new: str, line: int, message: str) -> None:
    problem = the_problem(with_line(VALID, old, new))

    assert problem.line == line
    assert message in problem.message


def test_an_escalation_may_not_show_cases_to_roles_the_queue_does_not_allow() -> None:
    problems = refused(with_line(VALID, "roles: [senior_reviewer]", "roles: [senior_reviewer, admin]"))

    assert [(p.line, p.message) for p in problems] == [
        (
            line,
            f"escalating from {queue!r} to 'senior' would show its cases to admin, which {queue!r} does not"
            " allow; escalate to a queue whose roles are among reviewer, senior_reviewer",
        )
        for queue, line in (("general", ESCALATE_LINE), ("hate", 8))
    ]


def test_an_escalation_loop_is_reported_once_at_its_first_queue() -> None:
    looping = with_line(VALID, "    escalate_to: senior\n  hate:", "    escalate_to: hate\n  hate:")
    looping = with_line(looping, "    escalate_to: senior\n  senior:", "    escalate_to: general\n  senior:")

    problem = the_problem(looping)

    assert problem.line == ESCALATE_LINE
    assert problem.message == "escalation loops back: general -> hate -> general"


def test_a_rule_without_a_queue_is_refused_with_its_misspelt_key() -> None:
    problems = refused(with_line(VALID, "  - queue: hate", "  - queues: hate"))

    assert [(p.line, p.message) for p in problems] == [
        (
            RULE_LINE,
            "unknown key 'queues' in rule 1 (did you mean 'queue'?); expected one of queue, reasons,"
            " categories, sources, languages, countries",
        ),
        (RULE_LINE, "rule 1 has no 'queue': name the queue its cases go to"),
    ]


def test_a_rule_without_conditions_is_refused() -> None:
    problem = the_problem(with_line(VALID, "    categories: [hate_speech]\n    countries: [DE, AT]\n", ""))

    assert problem.line == RULE_LINE
    assert "rule 1 has no condition, so it would take every case" in problem.message


def test_a_rule_that_an_earlier_rule_shadows_is_refused() -> None:
    shadowed = with_line(
        VALID,
        "default_queue:",
        "  - queue: general\n    categories: [hate_speech, spam]\n"
        "  - queue: senior\n    categories: [hate_speech]\n    countries: [DE]\n"
        "default_queue:",
    )

    problem = the_problem(shadowed)

    assert problem.line == 17
    assert problem.message.startswith("rule 3 can never match: rule 1 (line 12) already takes every case")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("queues: {}\nrules: []\ndefault_queue: general\n", "queues defines no queue"),
        ("rules: []\ndefault_queue: general\n", "missing key 'queues'"),
        ("- general\n", "the file must be a mapping of keys"),
        ("queues:\n  a: [reviewer]\ndefault_queue: a\n", "queue 'a' must be a mapping of keys"),
        (
            "queues:\n  a:\n    roles: [reviewer]\nrules: {queue: a}\ndefault_queue: a\n",
            "rules must be a list",
        ),
        ("queues:\n  a:\n    roles: [reviewer\ndefault_queue: a\n", "not valid YAML"),
        ("", "is empty"),
        ("[" * 50_000, "nested deeper than 16 levels"),
        ("#" * (MAX_CONFIG_BYTES + 1), f"larger than {MAX_CONFIG_BYTES} bytes"),
    ],
)
def test_a_file_that_is_not_a_queue_configuration_is_refused(text: str, message: str) -> None:
    assert message in the_problem(text).message


def test_all_problems_are_reported_at_once_in_line_order() -> None:
    broken = with_line(
        VALID,
        "[reviewer, senior_reviewer]\n    escalate_to: senior\n  hate",
        "[reviwer]\n    escalate_to: senior\n  hate",
    )
    broken = with_line(broken, "[hate_speech]", "[hate]")
    broken = with_line(broken, "[DE, AT]", "[DE, ZZ]")
    broken = with_line(broken, "default_queue: general", "default_queue: generl")

    problems = refused(broken)

    assert [p.line for p in problems] == [ROLES_LINE, CATEGORIES_LINE, COUNTRIES_LINE, DEFAULT_LINE]


def test_a_file_is_loaded_and_its_path_named_in_problems(tmp_path: Path) -> None:
    good = tmp_path / "queues.yaml"
    good.write_text(VALID, encoding="utf-8")
    assert list(load_queue_config(good).queues) == ["general", "hate", "senior"]

    bad = tmp_path / "bad.yaml"
    bad.write_text(with_line(VALID, "[hate_speech]", "[hate]"), encoding="utf-8")
    with pytest.raises(QueueConfigError) as caught:
        load_queue_config(bad)
    assert str(caught.value).startswith(f"queue config {bad} line {CATEGORIES_LINE}: unknown category 'hate'")


def test_an_unreadable_file_is_a_located_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(QueueConfigError, match="cannot be read"):
        load_queue_config(missing)

    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00queues")
    with pytest.raises(QueueConfigError, match="cannot be read"):
        load_queue_config(binary)
