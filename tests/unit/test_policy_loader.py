"""Loading policies: the default pack loads, and every bad policy is refused with a located, actionable reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.domain.cases import ReviewMode
from vigil.domain.decisions import Action, GroundType, PolicyMode
from vigil.domain.jurisdictions import GLOBAL, TerritorialScope
from vigil.domain.taxonomy import Category
from vigil.policy.loader import (
    DEFAULT_PACK,
    MAX_NESTING,
    MAX_POLICY_BYTES,
    MAX_VALUES,
    PolicyProblem,
    PolicyValidationError,
    load_policy_paths,
    parse_policies,
)

# A valid policy; the comments give the line numbers the tests below rely on.
SPAM_POLICY = """\
id: spam-demote
description: Demote obvious spam.
when: "signals.exists(s, s.category == 'spam' && s.score >= 0.9)"
category: spam
ground:
  type: incompatible_content
  reference: Terms of Service 4.7
  explanation: Bulk unsolicited content.
actions: [demote]
"""
ID_LINE, WHEN_LINE, CATEGORY_LINE, REFERENCE_LINE, ACTIONS_LINE = 1, 3, 4, 7, 9

HOLOCAUST_DENIAL_POLICY = """\
id: holocaust-denial
when: "signals.exists(s, s.label == 'holocaust_denial')"
category: hate_speech
ground:
  type: illegal_content
  reference: DE StGB 130(3)
  explanation: Holocaust denial is a crime where it is withheld.
actions: [geo_restrict]
territorial_scope: [DE, AT]
review: before
"""


def refused(text: str, file: str = "team.yaml") -> list[PolicyProblem]:
    """The problems that make ``text`` unloadable (fails the test if it loads)."""
    with pytest.raises(PolicyValidationError) as caught:
        parse_policies(text, file=file)
    assert caught.value.problems, "a refusal must give at least one reason"
    return list(caught.value.problems)


def the_problem(text: str) -> PolicyProblem:
    """The single problem with ``text``."""
    problems = refused(text)
    assert len(problems) == 1, problems
    return problems[0]


def with_line(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once in the template"
    return text.replace(old, new)


# --- the default pack ----------------------------------------------------------------------------


def test_default_pack_loads_all_twenty_policies() -> None:
    policies = load_policy_paths([DEFAULT_PACK])

    assert len(policies) == 20
    assert len({p.id for p in policies}) == 20
    assert {"csam-known-media", "hate-speech-holocaust-denial", "adult-nudity-public", "spam"} <= {
        p.id for p in policies
    }


def test_default_pack_geo_restriction_names_its_countries() -> None:
    policies = {p.id: p for p in load_policy_paths([DEFAULT_PACK])}

    holocaust = policies["hate-speech-holocaust-denial"]
    assert holocaust.actions == {Action.GEO_RESTRICT}
    assert {"DE", "AT", "FR"} <= (holocaust.territorial_scope.countries or set())
    assert holocaust.review


def test_every_default_policy_reloads_identically_from_its_stored_source() -> None:
    # The store keeps each version's source and parses it again to run it.
    for policy in load_policy_paths([DEFAULT_PACK]):
        (reloaded,) = parse_policies(policy.source, file=f"{policy.id}@1")
        assert reloaded == policy
        assert "---" not in policy.source


def test_the_policy_quoted_at_the_top_of_docs_policies_md_is_the_shipped_csam_policy() -> None:
    # the page opens with the default pack's first CSAM policy as an example of the format; quoting
    # it by hand let it lose the review and strikes keys the shipped file gained
    label = "# vigil/policy/packs/default/csam.yaml (its first document)\n"
    page = (Path(__file__).parents[2] / "docs" / "policies.md").read_text(encoding="utf-8")
    quoted = page[page.index(label) + len(label) :].split("```", 1)[0]
    shipped = (DEFAULT_PACK / "csam.yaml").read_text(encoding="utf-8")
    assert quoted == shipped.split("\n---\n", 1)[0] + "\n"
    (policy,) = parse_policies(quoted, file="docs/policies.md")
    assert (policy.id, policy.review, policy.strikes) == ("csam-known-media", ReviewMode.AFTER, 10)


# --- a valid policy ------------------------------------------------------------------------------


def test_valid_policy_loads_with_every_field() -> None:
    (policy,) = parse_policies(SPAM_POLICY)

    assert policy.id == "spam-demote"
    assert policy.description == "Demote obvious spam."
    assert policy.mode is PolicyMode.ENFORCE
    assert policy.category is Category.SPAM
    assert policy.ground.type is GroundType.INCOMPATIBLE_CONTENT
    assert policy.ground.reference == "Terms of Service 4.7"
    assert policy.actions == {Action.DEMOTE}
    assert policy.territorial_scope == GLOBAL
    assert policy.review is None


def test_geo_restricting_policy_keeps_its_countries() -> None:
    (policy,) = parse_policies(HOLOCAUST_DENIAL_POLICY)

    assert policy.territorial_scope == TerritorialScope.of(["DE", "AT"])
    assert policy.review is ReviewMode.BEFORE


def test_policy_that_only_asks_for_review_is_accepted() -> None:
    text = with_line(SPAM_POLICY, "actions: [demote]\n", "review: after\n")

    (policy,) = parse_policies(text)

    assert policy.actions == frozenset()
    assert policy.review is ReviewMode.AFTER


def test_review_must_say_before_or_after() -> None:
    text = with_line(SPAM_POLICY, "actions: [demote]\n", "actions: [demote]\nreview: true\n")

    with pytest.raises(PolicyValidationError) as raised:
        parse_policies(text, file="spam.yaml")

    (problem,) = raised.value.problems
    assert problem.line == text.splitlines().index("review: true") + 1
    assert problem.message.startswith("review must be 'before' (hold the restrictions")


def test_shadow_mode_is_read_from_the_policy() -> None:
    (policy,) = parse_policies(SPAM_POLICY + "mode: shadow\n")

    assert policy.mode is PolicyMode.SHADOW


# --- refusals: each names the line and says what would be accepted -------------------------------


def test_yaml_syntax_error_names_its_line() -> None:
    text = "id: broken\nwhen: 'true'\n  category: : spam\n"

    problem = the_problem(text)

    assert problem.line == 3
    assert problem.message.startswith("not valid YAML")


def test_problem_text_names_the_file_and_line() -> None:
    text = with_line(SPAM_POLICY, "actions: [demote]", "actions: [remov]")

    with pytest.raises(PolicyValidationError) as caught:
        parse_policies(text, file="team.yaml")

    assert f"policy team.yaml line {ACTIONS_LINE}: unknown action 'remov'" in str(caught.value)


def test_unknown_key_suggests_the_known_one() -> None:
    text = with_line(SPAM_POLICY, "actions: [demote]", "acions: [demote]")

    problem = the_problem(text)

    assert problem.line == ACTIONS_LINE
    assert "unknown key 'acions'" in problem.message
    assert "did you mean 'actions'?" in problem.message
    assert "expected one of id, description, mode, when" in problem.message


def test_unknown_key_inside_ground_suggests_the_ground_key() -> None:
    text = with_line(SPAM_POLICY, "  reference: Terms", "  refrence: Terms")

    problems = refused(text)

    unknown = [p for p in problems if "unknown key" in p.message]
    assert len(unknown) == 1
    assert unknown[0].line == REFERENCE_LINE
    assert "did you mean 'reference'?" in unknown[0].message
    # and the key it was meant to be is then missing
    assert any("missing required key 'ground.reference'" in p.message for p in problems)


def test_misspelt_action_suggests_remove() -> None:
    text = with_line(SPAM_POLICY, "actions: [demote]", "actions: [remov]")

    problem = the_problem(text)

    assert problem.line == ACTIONS_LINE
    assert "unknown action 'remov'" in problem.message
    assert "did you mean 'remove'?" in problem.message
    assert "expected one of remove, geo_restrict" in problem.message


def test_unknown_category_lists_the_categories() -> None:
    text = with_line(SPAM_POLICY, "category: spam", "category: hatespeech")

    problem = the_problem(text)

    assert problem.line == CATEGORY_LINE
    assert "unknown category 'hatespeech'" in problem.message
    assert "did you mean 'hate_speech'?" in problem.message
    assert all(c.value in problem.message for c in Category)


def test_invalid_cel_syntax_points_at_the_column() -> None:
    text = with_line(SPAM_POLICY, "s.score >= 0.9)", "s.score >= )")

    problem = the_problem(text)

    assert problem.line == WHEN_LINE
    assert problem.message.startswith("invalid CEL condition: column ")
    assert "Syntax error" in problem.message


def test_condition_on_a_misspelt_content_field_is_refused_at_load() -> None:
    text = with_line(
        SPAM_POLICY,
        "signals.exists(s, s.category == 'spam' && s.score >= 0.9)",
        "content.audiance == 'public'",
    )

    problem = the_problem(text)

    assert problem.line == WHEN_LINE
    assert (
        problem.message
        == "condition refers to an unknown field 'content.audiance' (did you mean 'audience'?)"
    )


def test_a_misspelt_field_behind_a_short_circuit_is_still_refused() -> None:
    text = with_line(
        SPAM_POLICY,
        "signals.exists(s, s.category == 'spam' && s.score >= 0.9)",
        "content.reach > 10 && signals.exists(s, s.scor > 0.5)",
    )

    assert (
        the_problem(text).message == "condition refers to an unknown field 's.scor' (did you mean 'score'?)"
    )


def test_words_inside_string_literals_are_not_fields() -> None:
    text = with_line(
        SPAM_POLICY,
        "signals.exists(s, s.category == 'spam' && s.score >= 0.9)",
        "content.text.contains('content.nonsense')",
    )

    assert [d.id for d in parse_policies(text)] == ["spam-demote"]


def test_condition_on_a_misspelt_variable_lists_the_known_variables() -> None:
    text = with_line(
        SPAM_POLICY, "signals.exists(s, s.category == 'spam' && s.score >= 0.9)", "contnet.reach > 1000"
    )

    problem = the_problem(text)

    assert problem.line == WHEN_LINE
    assert problem.message == (
        "condition refers to an unknown variable or function 'contnet'; the variables are content, signals, context"
    )


def test_condition_that_is_not_true_or_false_is_refused() -> None:
    text = with_line(
        SPAM_POLICY, "signals.exists(s, s.category == 'spam' && s.score >= 0.9)", "content.reach + 1"
    )

    problem = the_problem(text)

    assert problem.line == WHEN_LINE
    assert problem.message == "condition must be true or false, but gives int"


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ("content.media[1].md5 == 'ab'", "index out of bounds"),
        ("100 / (content.reach - 1) > 2", "division by zero"),
    ],
)
def test_condition_that_fails_on_an_ordinary_item_is_refused_rather_than_crashing(
    condition: str, reason: str
) -> None:
    text = with_line(SPAM_POLICY, "signals.exists(s, s.category == 'spam' && s.score >= 0.9)", condition)

    problem = the_problem(text)

    assert problem.line == WHEN_LINE
    assert problem.message.startswith("condition fails on a sample item: ")
    assert reason in problem.message


def test_geo_restrict_without_countries_is_refused() -> None:
    text = with_line(SPAM_POLICY, "actions: [demote]", "actions: [geo_restrict]")

    problem = the_problem(text)

    assert problem.line == ACTIONS_LINE
    assert problem.message == "geo_restrict needs territorial_scope: a list of countries"


def test_country_list_without_geo_restrict_is_refused() -> None:
    text = SPAM_POLICY + "territorial_scope: [DE]\n"

    problem = the_problem(text)

    assert problem.line == 10
    assert "needs the geo_restrict action" in problem.message


def test_empty_country_list_is_refused() -> None:
    text = with_line(HOLOCAUST_DENIAL_POLICY, "territorial_scope: [DE, AT]", "territorial_scope: []")

    problem = the_problem(text)

    assert problem.line == 9
    assert problem.message == "territorial_scope lists no country"


def test_unknown_country_code_points_at_the_code() -> None:
    text = with_line(
        HOLOCAUST_DENIAL_POLICY, "territorial_scope: [DE, AT]\n", "territorial_scope:\n  - DE\n  - XX\n"
    )

    problem = the_problem(text)

    assert problem.line == 11
    assert "unknown country code 'XX'" in problem.message
    assert "ISO 3166-1 alpha-2" in problem.message


def test_territorial_scope_that_is_neither_global_nor_a_list_is_refused() -> None:
    text = with_line(HOLOCAUST_DENIAL_POLICY, "territorial_scope: [DE, AT]", "territorial_scope: europe")

    problems = refused(text)

    assert any(
        p.line == 9 and p.message.startswith("territorial_scope must be 'global' or a list") for p in problems
    )


def test_policy_with_no_action_and_no_review_is_refused() -> None:
    text = with_line(SPAM_POLICY, "actions: [demote]", "actions: []")

    problem = the_problem(text)

    assert problem.line == ACTIONS_LINE
    assert problem.message == "a policy must take an action or ask for review"


def test_action_listed_twice_is_refused() -> None:
    text = with_line(SPAM_POLICY, "actions: [demote]", "actions: [demote, demote]")

    problem = the_problem(text)

    assert problem.line == ACTIONS_LINE
    assert problem.message == "an action is listed twice"


@pytest.mark.parametrize("bad_id", ["Spam", "spam policy", "-spam", "x" * 65, "spam!"])
def test_badly_formed_policy_id_is_refused(bad_id: str) -> None:
    text = with_line(SPAM_POLICY, "id: spam-demote", f"id: {bad_id!r}")

    problem = the_problem(text)

    assert problem.line == ID_LINE
    assert "policy id must be 1-64 characters of lower-case letters, digits" in problem.message


def test_missing_required_key_is_named() -> None:
    text = with_line(SPAM_POLICY, "category: spam\n", "")

    problem = the_problem(text)

    assert problem.message == "missing required key 'category'"


def test_document_that_is_not_a_mapping_is_refused() -> None:
    problem = the_problem("- id: spam\n- when: 'true'\n")

    assert problem.line == 1
    assert problem.message == "a policy must be a mapping of keys"


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = with_line(SPAM_POLICY, "actions: [demote]", "actions: [remov]")
    text = with_line(text, "category: spam", "category: spamm")

    problems = refused(text)

    assert {p.line for p in problems} == {CATEGORY_LINE, ACTIONS_LINE}


def test_duplicate_policy_ids_in_a_multi_document_file_are_refused() -> None:
    problem = the_problem(SPAM_POLICY + "---\n" + SPAM_POLICY)

    assert problem.file == "team.yaml"
    assert problem.line is None  # a file-level problem: both documents are individually valid
    assert problem.message == "policy id 'spam-demote' appears twice"


def test_duplicate_policy_ids_across_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(SPAM_POLICY)
    (tmp_path / "b.yml").write_text(SPAM_POLICY)
    (tmp_path / "notes.txt").write_text("not a policy")

    with pytest.raises(PolicyValidationError) as caught:
        load_policy_paths([tmp_path])

    (problem,) = caught.value.problems
    assert problem.file == "a.yaml, b.yml"
    assert problem.message == "policy id 'spam-demote' appears twice"


def test_problems_from_several_files_are_collected_with_their_file_names(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(with_line(SPAM_POLICY, "category: spam", "category: spamm"))
    (tmp_path / "b.yaml").write_text(with_line(SPAM_POLICY, "actions: [demote]", "actions: [remov]"))

    with pytest.raises(PolicyValidationError) as caught:
        load_policy_paths([tmp_path])

    assert [(p.file, p.line) for p in caught.value.problems] == [
        ("a.yaml", CATEGORY_LINE),
        ("b.yaml", ACTIONS_LINE),
    ]


def test_file_over_64_kib_is_refused_before_parsing() -> None:
    padding = "# " + "x" * 100 + "\n"
    text = SPAM_POLICY + padding * (MAX_POLICY_BYTES // len(padding) + 1)
    assert len(text.encode()) > MAX_POLICY_BYTES

    problem = the_problem(text)

    assert problem.line is None
    assert problem.message == f"larger than {MAX_POLICY_BYTES} bytes"


def test_file_just_under_the_size_limit_loads() -> None:
    padding = "# " + "x" * 100 + "\n"
    text = SPAM_POLICY + padding * ((MAX_POLICY_BYTES - len(SPAM_POLICY)) // len(padding))
    assert len(text.encode()) <= MAX_POLICY_BYTES

    assert len(parse_policies(text)) == 1


def test_empty_file_contains_no_policy() -> None:
    problem = the_problem("# nothing here yet\n")

    assert problem.message == "contains no policy"


def test_nesting_past_the_limit_is_refused_at_the_line_where_it_goes_too_deep() -> None:
    # the document's mapping is the first level; here, line 10 holds the second
    inner = MAX_NESTING - 1
    deepest_allowed = SPAM_POLICY + "description: " + "[" * inner + "]" * inner + "\n"
    too_deep = SPAM_POLICY + "description:\n" + "".join(" " * d + "- \n" for d in range(MAX_NESTING))

    assert the_problem(deepest_allowed).message.startswith("description:")  # read, then refused as no text
    problem = the_problem(too_deep)
    assert problem.message == f"nested more than {MAX_NESTING} levels deep"
    assert problem.line == 10 + MAX_NESTING


def test_aliases_count_as_everything_their_anchor_holds() -> None:
    laughs = ["a0: &a0 [" + ", ".join(["lol"] * 9) + "]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 5)
    ]
    text = SPAM_POLICY + "\n".join(laughs) + "\n"  # 9**5 = 59,049 values in 300 bytes

    problem = the_problem(text)

    assert problem.message == f"holds more than {MAX_VALUES} values once its aliases are expanded"
    assert problem.line == 9 + 5


def test_an_anchor_and_its_alias_in_an_ordinary_policy_load() -> None:
    text = SPAM_POLICY.replace("reference: Terms of Service 4.7", "reference: &tos Terms of Service 4.7")
    text = text.replace("explanation: Bulk unsolicited content.", "explanation: *tos")

    [definition] = parse_policies(text)

    assert definition.ground.explanation == "Terms of Service 4.7"


# --- sources and digests -------------------------------------------------------------------------


def test_multi_document_file_gives_one_definition_per_document_with_its_verbatim_source() -> None:
    second = with_line(SPAM_POLICY, "id: spam-demote", "id: spam-label")
    second = with_line(second, "actions: [demote]", "actions: [label]  # milder, for now")
    text = SPAM_POLICY + "---\n" + second + "---\n" + HOLOCAUST_DENIAL_POLICY

    policies = parse_policies(text)

    assert [p.id for p in policies] == ["spam-demote", "spam-label", "holocaust-denial"]
    assert [p.source for p in policies] == [SPAM_POLICY, second, HOLOCAUST_DENIAL_POLICY]


def test_digest_is_stable_for_the_same_text() -> None:
    (first,) = parse_policies(SPAM_POLICY)
    (again,) = parse_policies(SPAM_POLICY)

    assert first.digest == again.digest
    assert len(first.digest) == 64


def test_digest_ignores_surrounding_blank_lines_and_document_markers() -> None:
    (alone,) = parse_policies(SPAM_POLICY)
    (framed, _) = parse_policies("\n---\n" + SPAM_POLICY + "\n\n---\n" + HOLOCAUST_DENIAL_POLICY)

    assert framed.source == alone.source
    assert framed.digest == alone.digest


def test_digest_changes_when_the_text_changes() -> None:
    (original,) = parse_policies(SPAM_POLICY)
    (stricter,) = parse_policies(with_line(SPAM_POLICY, "s.score >= 0.9", "s.score >= 0.95"))
    (reworded,) = parse_policies(with_line(SPAM_POLICY, "Demote obvious spam.", "Demote spam."))

    assert len({original.digest, stricter.digest, reworded.digest}) == 3
