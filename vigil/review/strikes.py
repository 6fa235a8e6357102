"""Strikes: repeat infringers lose their account or channel (DSA Art. 23).

Each policy says what a restriction under it counts against the content's author and channel
(``strikes:`` in the policy, 0 by default); a policy pack's ``strikes.yaml`` says over how many days
strikes count and at how many an account is suspended or a channel banned::

    window_days: 90
    suspend_account_at: 10
    ban_channel_at: 20

A strike counts while the restriction that earned it is in force: an item whose removal a reviewer
or an appeal lifted counts nothing, and a restriction held for review counts once a person confirms
it. When a decision's own strikes take the author's (or channel's) total within the window to the
threshold, the decision also suspends the account (bans the channel), on the same path as its other
actions, so the platform is told once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from vigil.domain.decisions import Action, Decision
from vigil.policy.loader import DEFAULT_PACK, STRIKE_RULES_STEM

DEFAULT_STRIKE_RULES = DEFAULT_PACK / f"{STRIKE_RULES_STEM}.yaml"
_KEYS = ("window_days", "suspend_account_at", "ban_channel_at")


class StrikeRulesError(ValueError):
    """A strike rules file that cannot be used, with the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class StrikeRules:
    window: timedelta
    suspend_account_at: int
    ban_channel_at: int


def parse_strike_rules(text: str, file: str = "<input>") -> StrikeRules:
    """The rules in ``text``; every problem is reported at once."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StrikeRulesError(f"{file}: not YAML: {exc}") from None
    if not isinstance(data, dict):
        raise StrikeRulesError(f"{file}: expected the keys {', '.join(_KEYS)}")
    problems = [f"unknown key {key!r}" for key in data if key not in _KEYS]
    values: dict[str, int] = {}
    for key, lowest, highest in (
        ("window_days", 1, 3650),
        ("suspend_account_at", 1, 10_000),
        ("ban_channel_at", 1, 10_000),
    ):
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value <= highest:
            problems.append(f"{key} must be a whole number from {lowest} to {highest}")
        else:
            values[key] = value
    if problems:
        raise StrikeRulesError(f"{file}: " + "; ".join(problems))
    return StrikeRules(
        timedelta(days=values["window_days"]), values["suspend_account_at"], values["ban_channel_at"]
    )


def load_strike_rules(path: Path | None = None) -> StrikeRules:
    """The rules of a pack's ``strikes.yaml`` (the default pack's when ``path`` is None)."""
    path = path or DEFAULT_STRIKE_RULES
    try:
        return parse_strike_rules(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise StrikeRulesError(f"{path}: cannot read: {exc.strerror}") from None


def with_strikes(
    decision: Decision, author_total: int, channel_total: int | None, rules: StrikeRules
) -> Decision:
    """``decision`` with the account suspension or channel ban its strikes bring about.

    ``author_total`` and ``channel_total`` include the decision's own strikes; ``channel_total`` is
    None when the content is in no channel. A decision that earns no strike changes nothing.
    """
    if decision.strikes <= 0:
        return decision
    added: set[Action] = set()
    if author_total >= rules.suspend_account_at:
        added.add(Action.SUSPEND_ACCOUNT)
    if channel_total is not None and channel_total >= rules.ban_channel_at:
        added.add(Action.BAN_CHANNEL)
    if added <= decision.actions:
        return decision
    return replace(decision, actions=decision.actions | added)
