"""Strikes: the rules file, and what a decision's strikes bring about."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from vigil.domain.content import Subject, SubjectType
from vigil.domain.decisions import Action, Decision, Source
from vigil.review.strikes import (
    StrikeRules,
    StrikeRulesError,
    load_strike_rules,
    parse_strike_rules,
    with_strikes,
)

RULES = StrikeRules(timedelta(days=90), suspend_account_at=10, ban_channel_at=20)
REMOVAL = replace(
    Decision.no_action(Subject(SubjectType.CONTENT, "c1"), Source.VOLUNTARY, True),
    actions=frozenset({Action.REMOVE}),
    strikes=3,
)


def test_the_default_pack_counts_strikes_for_ninety_days() -> None:
    assert load_strike_rules() == RULES


def test_every_problem_in_a_rules_file_is_reported_at_once() -> None:
    with pytest.raises(StrikeRulesError) as raised:
        parse_strike_rules("window_days: 0\nsuspend_account_at: ten\nban_chanel_at: 5\n", "strikes.yaml")
    message = str(raised.value)
    assert message.startswith("strikes.yaml: unknown key 'ban_chanel_at'")
    assert "window_days must be a whole number from 1 to 3650" in message
    assert "suspend_account_at must be a whole number" in message
    assert "ban_channel_at must be a whole number" in message


def test_reaching_the_threshold_suspends_the_account_and_bans_the_channel() -> None:
    below = with_strikes(REMOVAL, author_total=9, channel_total=19, rules=RULES)
    at = with_strikes(REMOVAL, author_total=10, channel_total=20, rules=RULES)
    no_channel = with_strikes(REMOVAL, author_total=12, channel_total=None, rules=RULES)

    assert below == REMOVAL
    assert at.actions == {Action.REMOVE, Action.SUSPEND_ACCOUNT, Action.BAN_CHANNEL}
    assert no_channel.actions == {Action.REMOVE, Action.SUSPEND_ACCOUNT}


def test_a_decision_that_earns_no_strike_never_suspends() -> None:
    unstruck = replace(REMOVAL, strikes=0)
    assert with_strikes(unstruck, author_total=50, channel_total=50, rules=RULES) == unstruck
