"""Which Vigil role a person signed in through their organisation gets: the roles file.

The organisation's OpenID Connect provider says which groups a person is in (a claim of the ID
token, ``groups`` unless the file names another); the roles file (``VIGIL_OIDC_ROLES_FILE``, YAML)
maps group names to Vigil roles::

    claim: groups
    roles:                       # checked top to bottom: the first group the person is in decides
      - group: vigil-admins
        role: admin
      - group: trust-and-safety
        role: reviewer

Why first match and not "the most powerful role": roles are not a ladder (``child_safety_reviewer``
sees media that ``admin`` does not work on; ``legal`` is not above ``reviewer``), so no order among
them could be guessed. The file's own order is the rule, written where the mapping is. A person in
no listed group is refused. Only roles people hold may be mapped: a provider's group must never make
someone a platform, a trusted flagger or an authority, whose keys speak for an organisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vigil.domain.roles import Role

MAX_ROLES_FILE_BYTES = 64 * 1024
MAX_RULES = 500
MAX_GROUP_LENGTH = 256

# Listed, not derived: a role added to Role later is not mappable until someone decides it is held
# by people.
PEOPLE_ROLES: frozenset[Role] = frozenset(
    {
        Role.REVIEWER,
        Role.SENIOR_REVIEWER,
        Role.CHILD_SAFETY_REVIEWER,
        Role.LEGAL,
        Role.SENIOR_LEGAL,
        Role.ADMIN,
        Role.AUDITOR,
    }
)


class RolesFileError(ValueError):
    """A roles file that cannot be used, with the file, the line and what is wrong."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str = Field(min_length=1, max_length=MAX_GROUP_LENGTH)
    role: Role

    @field_validator("role", mode="before")
    @classmethod
    def _person_role(cls, value: Any) -> Any:
        allowed = ", ".join(sorted(r.value for r in PEOPLE_ROLES))
        if isinstance(value, str) and value in {r.value for r in Role} and Role(value) not in PEOPLE_ROLES:
            raise ValueError(
                f"role {value!r} is not held by people and cannot be mapped; use one of {allowed}"
            )
        if not isinstance(value, str) or value not in {r.value for r in PEOPLE_ROLES}:
            raise ValueError(f"unknown role {str(value)[:64]!r}; use one of {allowed}")
        return value


class _RolesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(default="groups", min_length=1, max_length=100)
    roles: list[_Rule] = Field(min_length=1, max_length=MAX_RULES)

    @model_validator(mode="after")
    def _groups_once(self) -> _RolesFile:
        seen: set[str] = set()
        for rule in self.roles:
            if rule.group in seen:
                raise ValueError(f"group {rule.group!r} is listed twice; list each group once")
            seen.add(rule.group)
        return self


@dataclass(frozen=True, slots=True)
class RoleRule:
    """One line of the mapping: members of ``group`` get ``role`` (unless an earlier line applies)."""

    group: str
    role: Role


@dataclass(frozen=True, slots=True)
class RoleMap:
    """The roles file, read: the claim that lists a person's groups and the rules in file order."""

    claim: str
    rules: tuple[RoleRule, ...]

    def rule_for(self, groups: Sequence[str]) -> RoleRule | None:
        """The first rule whose group is one of ``groups``, or None (the person is refused)."""
        held = set(groups)
        return next((rule for rule in self.rules if rule.group in held), None)


def _node_at(root: yaml.Node, loc: Sequence[int | str]) -> yaml.Node:
    """The deepest node of ``root`` that ``loc`` (a pydantic error's location) reaches."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None
            )
            if found is None:
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            break
    return node


def parse_roles_file(text: str, file: str = "<input>") -> RoleMap:
    """Read a roles file; every problem names the file and the line."""
    if len(text.encode()) > MAX_ROLES_FILE_BYTES:
        raise RolesFileError(f"{file}: larger than {MAX_ROLES_FILE_BYTES} bytes")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RolesFileError(f"{file}: not YAML: {' '.join(str(exc).split())}") from None
    if root is None or not isinstance(data, dict):
        raise RolesFileError(f"{file}: expected a mapping with 'roles' (a list of group and role)")
    try:
        parsed = _RolesFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            line = int(_node_at(root, loc).start_mark.line) + 1
            where = ".".join(str(p) for p in loc) or "top level"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"line {line}: {where}: {message}")
        raise RolesFileError(f"{file}: {'; '.join(problems)}") from None
    return RoleMap(parsed.claim, tuple(RoleRule(rule.group, rule.role) for rule in parsed.roles))


def load_roles_file(path: Path) -> RoleMap:
    """The roles file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RolesFileError(f"{path}: cannot read: {exc}") from None
    return parse_roles_file(text, str(path))
