"""Review queues: where a case waits, who may work it, and the rules that send it there.

Queues are data, not code: a platform adds a queue for its Portuguese-speaking reviewers or for one
country's hate-speech law by editing a YAML file (the default is ``queues.yaml`` next to this module)::

    queues:                     # in the order the console lists them
      child_safety:
        description: Child sexual abuse material and grooming.
        roles: [child_safety_reviewer, senior_reviewer]
        sensitive: true         # media blurred by default; counts toward daily exposure
        escalate_to: escalations
    rules:                      # read in order; the first rule that matches a case wins
      - queue: child_safety
        categories: [csam, grooming]
    default_queue: general      # where a case goes when no rule matches

A rule names its queue and one or more conditions: ``reasons`` (why the case was opened),
``categories``, ``sources`` (what brought the content: ``voluntary``, ``notice``, ``trusted_flagger``,
``authority_order``, ``reviewer``), ``languages`` (ISO 639-1) and ``countries`` (ISO 3166-1
alpha-2). Each lists the values it accepts; a rule matches when every condition it names holds, and a
condition it leaves out accepts anything. A case without a category or language matches no rule that
asks for one.

Why first-match-wins rather than the most specific rule: the order is the policy. Child safety comes
first so that an appeal or an authority order about abuse material still lands with the reviewers
trained to see it; a reader of the file sees the precedence without computing specificity.

Why roles are listed per queue, administrators included: who may see child sexual abuse material is
a matter of training, support and law, not of rank, so no role is allowed a queue the file does not
name it in. Only roles that review may be named: keys acting for an outside organisation (platform,
trusted flagger, authority) and auditors never work cases.

Beyond the shape of the file, loading refuses what would misroute or leak cases: a rule that can
never match because an earlier rule already takes all its cases, a rule without conditions (that is
what ``default_queue`` is for), an escalation that loops, and an escalation that would show a queue's
cases to roles the queue itself does not allow. Every problem is reported at once, with its line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

import yaml

from vigil.domain.cases import CaseReason, RoutingFacts
from vigil.domain.decisions import Source
from vigil.domain.errors import NotFoundError
from vigil.domain.jurisdictions import normalise_country
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.domain.values import ISO_LANGUAGES

DEFAULT_QUEUES = Path(__file__).parent / "queues.yaml"

QUEUE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_CONFIG_BYTES = 256 * 1024
MAX_QUEUES = 200
MAX_RULES = 1000
MAX_VALUES = 300  # per condition: more than there are country or language codes
MAX_DESCRIPTION = 500
MAX_DEPTH = 16  # a configuration nests four levels; deeper is an attack on the recursive composer

# The roles that work cases. Listed, not derived, so that a role added later is kept out of every
# queue until someone decides otherwise.
REVIEWING_ROLES: frozenset[Role] = frozenset(
    {
        Role.REVIEWER,
        Role.SENIOR_REVIEWER,
        Role.CHILD_SAFETY_REVIEWER,
        Role.LEGAL,
        Role.SENIOR_LEGAL,
        Role.ADMIN,
    }
)

_TOP_KEYS = ("queues", "rules", "default_queue")
_QUEUE_KEYS = ("description", "roles", "sensitive", "escalate_to")
_CONDITIONS = ("reasons", "categories", "sources", "languages", "countries")
_RULE_KEYS = ("queue", *_CONDITIONS)
_EXAMPLES = {
    "roles": "[reviewer, senior_reviewer]",
    "reasons": "[appeal]",
    "categories": "[csam, grooming]",
    "sources": "[authority_order]",
    "languages": "[de, fr]",
    "countries": "[DE, AT]",
}
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"


@dataclass(frozen=True, slots=True)
class Queue:
    """A named place where cases wait for review, and who may work them."""

    name: str  # lower-case slug, stable: cases and URLs refer to it
    description: str
    roles: frozenset[Role]  # who may list, claim and see the media of its cases
    escalate_to: str | None  # the queue an escalated case moves to; None: it cannot be escalated
    sensitive: bool  # the most harmful material: media blurred by default, counts toward exposure


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """Sends a case to ``queue`` when every non-empty condition contains the case's fact."""

    queue: str
    reasons: frozenset[CaseReason] = frozenset()
    categories: frozenset[Category] = frozenset()
    sources: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()  # ISO 639-1, lower case
    countries: frozenset[str] = frozenset()  # ISO 3166-1 alpha-2, upper case

    def matches(self, facts: RoutingFacts) -> bool:
        """Whether a case with ``facts`` goes to this rule's queue (if no earlier rule took it)."""
        return (
            (not self.reasons or facts.reason in self.reasons)
            and (not self.categories or facts.category in self.categories)
            and (not self.sources or facts.source in self.sources)
            and (not self.languages or facts.language.lower() in self.languages)
            and (not self.countries or facts.country.upper() in self.countries)
        )

    def covers(self, other: RoutingRule) -> bool:
        """Whether this rule matches every case ``other`` matches (so ``other`` after it is dead)."""
        return all(
            not mine or (theirs and theirs <= mine)
            for mine, theirs in zip(self._conditions(), other._conditions(), strict=True)
        )

    def _conditions(self) -> tuple[frozenset[str], ...]:
        return (self.reasons, self.categories, self.sources, self.languages, self.countries)


class UnknownQueueError(NotFoundError):
    """A queue name that the configuration does not define."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        shown = name if len(name) <= 64 else name[:64] + "..."
        super().__init__(
            f"unknown queue {shown!r}{_did_you_mean(shown, known)}; the queues are {', '.join(known)}"
        )


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """The queues (in display order), the routing rules (in precedence order) and the default queue.

    Build it with :func:`parse_queue_config` or :func:`load_queue_config`, which guarantee that every
    queue a rule, an escalation or the default names exists.
    """

    queues: Mapping[str, Queue]
    rules: tuple[RoutingRule, ...]
    default_queue: str

    def route(self, facts: RoutingFacts) -> str:
        """The queue for a case: the first matching rule's, else the default queue."""
        for rule in self.rules:
            if rule.matches(facts):
                return rule.queue
        return self.default_queue

    def queue(self, name: str) -> Queue:
        """The queue called ``name``; raises UnknownQueueError if there is none."""
        found = self.queues.get(name)
        if found is None:
            raise UnknownQueueError(name, tuple(self.queues))
        return found

    def visible_to(self, role: Role) -> list[Queue]:
        """The queues ``role`` may list and work, in display order."""
        return [queue for queue in self.queues.values() if role in queue.roles]

    def may_review(self, queue: str, role: Role) -> bool:
        """Whether ``role`` may list, claim and see the media of ``queue``'s cases.

        An unknown queue raises UnknownQueueError rather than answering False, so that the caller can
        tell "no such queue" (404) from "not yours" (403).
        """
        return role in self.queue(queue).roles


@dataclass(frozen=True, slots=True)
class QueueConfigProblem:
    """One thing wrong with a queue configuration, located for the person who has to fix it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}" if self.line is not None else self.file
        return f"queue config {where}: {self.message}"


class QueueConfigError(ValueError):
    """A queue configuration that cannot be loaded; ``problems`` lists every reason found."""

    def __init__(self, problems: Sequence[QueueConfigProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def _did_you_mean(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word[:64], list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")


def _member_of(enum: type[_E], noun: str) -> Callable[[str], _E]:
    """A parser of ``enum``'s values whose refusal suggests the closest one."""
    choices = [member.value for member in enum]

    def parse(raw: str) -> _E:
        if raw not in choices:
            raise ValueError(
                f"unknown {noun} {raw!r}{_did_you_mean(raw, choices)}; expected one of {', '.join(choices)}"
            )
        return enum(raw)

    return parse


def _reviewing_role(raw: str) -> Role:
    allowed = sorted(role.value for role in REVIEWING_ROLES)
    if raw in allowed:
        return Role(raw)
    if raw in {role.value for role in Role}:
        raise ValueError(f"role {raw!r} does not review cases; the reviewing roles are {', '.join(allowed)}")
    raise ValueError(
        f"unknown role {raw!r}{_did_you_mean(raw, allowed)}; expected one of {', '.join(allowed)}"
    )


_source_member = _member_of(Source, "source")


def _source(raw: str) -> str:
    return _source_member(raw).value


def _language(raw: str) -> str:
    code = raw.strip().lower()
    if code not in ISO_LANGUAGES:
        raise ValueError(f"unknown language {raw!r}; expected an ISO 639-1 code such as 'de' or 'pt'")
    return code


_PARSERS: dict[str, Callable[[str], str]] = {
    "reasons": _member_of(CaseReason, "reason"),
    "categories": _member_of(Category, "category"),
    "sources": _source,
    "languages": _language,
    "countries": normalise_country,  # raises UnknownCountryError, a ValueError
}


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class _Reader:
    """Walks the composed YAML, so that every problem carries the line of the node it is about."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[QueueConfigProblem] = []

    def problem(self, node: yaml.Node | None, message: str) -> None:
        self.problems.append(
            QueueConfigProblem(self.file, _line(node) if node is not None else None, message)
        )

    def mapping(self, node: yaml.Node, what: str, allowed: Sequence[str]) -> dict[str, yaml.Node] | None:
        """The values of a mapping's keys; unknown and repeated keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping of keys ({', '.join(allowed)})")
            return None
        found: dict[str, yaml.Node] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if key is None:
                self.problem(key_node, f"a key in {what} is not a name; expected one of {', '.join(allowed)}")
            elif key not in allowed:
                self.problem(
                    key_node,
                    f"unknown key {key[:64]!r} in {what}{_did_you_mean(key, allowed)};"
                    f" expected one of {', '.join(allowed)}",
                )
            elif key in found:
                self.problem(
                    key_node, f"key {key!r} appears twice in {what} (first at line {first_line[key]})"
                )
            else:
                found[key] = value_node
                first_line[key] = _line(key_node)
        return found

    @staticmethod
    def scalar(node: yaml.Node) -> str | None:
        """A scalar's text as written (so ``no``, Norwegian, stays a word), or None for null or a collection."""
        if isinstance(node, yaml.ScalarNode) and node.tag != _NULL_TAG:
            return str(node.value)
        return None

    def text(self, node: yaml.Node, what: str, limit: int = 200) -> str | None:
        value = self.scalar(node)
        if value is None:
            self.problem(node, f"{what} must be a text")
            return None
        if len(value) > limit:
            self.problem(node, f"{what} is longer than {limit} characters")
            return None
        return value

    def values(self, node: yaml.Node, key: str, what: str, parse: Callable[[str], _T]) -> frozenset[_T]:
        """A non-empty list of names, each parsed; unknown and repeated names are problems."""
        example = _EXAMPLES[key]
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{key} in {what} must be a list, e.g. {key}: {example}")
            return frozenset()
        if not node.value:
            self.problem(node, f"{key} in {what} lists nothing; leave the key out to accept any")
            return frozenset()
        if len(node.value) > MAX_VALUES:
            self.problem(node, f"{key} in {what} lists more than {MAX_VALUES} values")
            return frozenset()
        parsed: set[_T] = set()
        for item in node.value:
            raw = self.scalar(item)
            if raw is None:
                self.problem(item, f"{key} in {what} must hold names, e.g. {key}: {example}")
                continue
            try:
                value = parse(raw[:64])
            except ValueError as exc:
                self.problem(item, str(exc))
                continue
            if value in parsed:
                self.problem(item, f"{raw!r} is listed twice in {key} of {what}")
            parsed.add(value)
        return frozenset(parsed)

    def config(self, root: yaml.Node) -> QueueConfig:
        top = self.mapping(root, "the file", _TOP_KEYS)
        if top is None:
            raise QueueConfigError(self.problems)
        declared, queues, escalations = self.queues(top.get("queues"), root)
        rules = self.rules(top.get("rules"), declared)
        default = self.default_queue(top.get("default_queue"), root, declared)
        self.check_escalations(queues, declared, escalations)
        if self.problems:
            self.problems.sort(key=lambda p: p.line if p.line is not None else 0)
            raise QueueConfigError(self.problems)
        assert default is not None  # a missing or unknown default is a problem above
        return QueueConfig(MappingProxyType(queues), tuple(rules), default)

    def queues(
        self, node: yaml.Node | None, root: yaml.Node
    ) -> tuple[list[str], dict[str, Queue], dict[str, yaml.Node]]:
        """Every queue name written (valid or not, for references), the valid queues, and the
        ``escalate_to`` node of each queue that has one."""
        declared: list[str] = []
        queues: dict[str, Queue] = {}
        escalations: dict[str, yaml.Node] = {}
        if node is None:
            self.problem(root, "missing key 'queues': define at least one queue")
            return declared, queues, escalations
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, "queues must be a mapping from queue name to its definition")
            return declared, queues, escalations
        if not node.value:
            self.problem(node, "queues defines no queue")
        if len(node.value) > MAX_QUEUES:
            self.problem(node, f"more than {MAX_QUEUES} queues")
            return declared, queues, escalations
        first_line: dict[str, int] = {}
        for name_node, body in node.value:
            name = self.scalar(name_node)
            if name is None or not QUEUE_NAME.fullmatch(name):
                shown = repr(name[:64]) if name is not None else "that is not a name"
                self.problem(
                    name_node,
                    f"queue name {shown} must be 1-63 lower-case letters, digits or '_',"
                    " starting with a letter",
                )
                continue
            if name in first_line:
                self.problem(name_node, f"queue {name!r} is defined twice (first at line {first_line[name]})")
                continue
            first_line[name] = _line(name_node)
            declared.append(name)
            queue = self.queue(name, name_node, body, escalations)
            if queue is not None:
                queues[name] = queue
        return declared, queues, escalations

    def queue(
        self, name: str, name_node: yaml.Node, node: yaml.Node, escalations: dict[str, yaml.Node]
    ) -> Queue | None:
        what = f"queue {name!r}"
        before = len(self.problems)
        fields = self.mapping(node, what, _QUEUE_KEYS)
        if fields is None:
            return None
        description = ""
        if "description" in fields:
            description = self.text(fields["description"], f"description of {what}", MAX_DESCRIPTION) or ""
        roles: frozenset[Role] = frozenset()
        if "roles" in fields:
            roles = self.values(fields["roles"], "roles", what, _reviewing_role)
        else:
            self.problem(name_node, f"{what} has no 'roles': list the roles that may review its cases")
        sensitive = False
        if "sensitive" in fields:
            flag = fields["sensitive"]
            if isinstance(flag, yaml.ScalarNode) and flag.tag == _BOOL_TAG:
                sensitive = flag.value.lower() in {"true", "yes", "on"}
            else:
                self.problem(flag, f"sensitive in {what} must be true or false")
        escalate_to: str | None = None
        if "escalate_to" in fields:
            target = fields["escalate_to"]
            if not (isinstance(target, yaml.ScalarNode) and target.tag == _NULL_TAG):
                escalate_to = self.text(target, f"escalate_to of {what}")
                escalations[name] = target
        if len(self.problems) > before:
            return None
        return Queue(name, description, roles, escalate_to, sensitive)

    def rules(self, node: yaml.Node | None, declared: list[str]) -> list[RoutingRule]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "rules must be a list of rules, each with a queue and its conditions")
            return []
        if len(node.value) > MAX_RULES:
            self.problem(node, f"more than {MAX_RULES} rules")
            return []
        accepted: list[tuple[int, int, RoutingRule]] = []
        for number, item in enumerate(node.value, start=1):
            what = f"rule {number}"
            before = len(self.problems)
            fields = self.mapping(item, what, _RULE_KEYS)
            if fields is None:
                continue
            conditions = {
                key: self.values(fields[key], key, what, _PARSERS[key])
                for key in _CONDITIONS
                if key in fields
            }
            if not fields.keys() & set(_CONDITIONS):
                self.problem(
                    item,
                    f"{what} has no condition, so it would take every case; name its queue in default_queue"
                    f" instead, or add one of {', '.join(_CONDITIONS)}",
                )
            queue = ""
            if "queue" not in fields:
                self.problem(item, f"{what} has no 'queue': name the queue its cases go to")
            else:
                queue = self.text(fields["queue"], f"queue of {what}") or ""
                if queue and declared and queue not in declared:
                    self.problem(
                        fields["queue"],
                        f"{what} sends cases to unknown queue {queue[:64]!r}{_did_you_mean(queue, declared)};"
                        f" the queues are {', '.join(declared)}",
                    )
            if len(self.problems) > before:
                continue
            rule = RoutingRule(
                queue,
                reasons=frozenset(CaseReason(v) for v in conditions.get("reasons", ())),
                categories=frozenset(Category(v) for v in conditions.get("categories", ())),
                sources=conditions.get("sources", frozenset()),
                languages=conditions.get("languages", frozenset()),
                countries=conditions.get("countries", frozenset()),
            )
            for earlier_number, earlier_line, earlier in accepted:
                if earlier.covers(rule):
                    self.problem(
                        item,
                        f"{what} can never match: rule {earlier_number} (line {earlier_line}) already takes"
                        " every case it would; put the narrower rule first or remove it",
                    )
                    break
            else:
                accepted.append((number, _line(item), rule))
        return [rule for _, _, rule in accepted]

    def default_queue(self, node: yaml.Node | None, root: yaml.Node, declared: list[str]) -> str | None:
        if node is None:
            self.problem(root, "missing key 'default_queue': name the queue for cases no rule matches")
            return None
        name = self.text(node, "default_queue")
        if name is not None and declared and name not in declared:
            self.problem(
                node,
                f"default_queue names unknown queue {name[:64]!r}{_did_you_mean(name, declared)};"
                f" the queues are {', '.join(declared)}",
            )
        return name

    def check_escalations(
        self, queues: Mapping[str, Queue], declared: list[str], nodes: Mapping[str, yaml.Node]
    ) -> None:
        for name, queue in queues.items():
            target_name = queue.escalate_to
            if target_name is None:
                continue
            node = nodes[name]
            if target_name == name:
                self.problem(
                    node, f"queue {name!r} escalates to itself; name a more senior queue or leave it out"
                )
                continue
            if target_name not in declared:
                self.problem(
                    node,
                    f"queue {name!r} escalates to unknown queue {target_name[:64]!r}"
                    f"{_did_you_mean(target_name, declared)}; the queues are {', '.join(declared)}",
                )
                continue
            target = queues.get(target_name)
            if target is None:
                continue  # the target's own definition is refused above
            wider = target.roles - queue.roles
            if wider:
                self.problem(
                    node,
                    f"escalating from {name!r} to {target_name!r} would show its cases to"
                    f" {', '.join(sorted(wider))}, which {name!r} does not allow; escalate to a queue whose"
                    f" roles are among {', '.join(sorted(queue.roles))}",
                )
            cycle = _escalation_cycle(name, queues)
            # report a loop once, at the first of its queues in the file
            if cycle and min(cycle, key=declared.index) == name:
                self.problem(node, f"escalation loops back: {' -> '.join([*cycle, name])}")


def _escalation_cycle(start: str, queues: Mapping[str, Queue]) -> list[str]:
    """The queues an escalation from ``start`` passes through before coming back to it, or []."""
    path = [start]
    current = queues[start].escalate_to
    while current is not None and current in queues and current not in path:
        path.append(current)
        current = queues[current].escalate_to
    return path if current == start and len(path) > 1 else []


def _refuse_deep_nesting(text: str, file: str) -> None:
    """Raise QueueConfigError if ``text`` nests deeper than MAX_DEPTH.

    PyYAML composes nodes recursively, so deep nesting would exhaust Python's stack (and take seconds
    to unwind); its event parser is iterative, so the depth is checked on the events first.
    """
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else None
                raise QueueConfigError(
                    [QueueConfigProblem(file, line, f"nested deeper than {MAX_DEPTH} levels")]
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def parse_queue_config(text: str, file: str = "<input>") -> QueueConfig:
    """Parse a queue configuration; raise QueueConfigError listing every problem found."""
    if len(text) > MAX_CONFIG_BYTES or len(text.encode("utf-8", "replace")) > MAX_CONFIG_BYTES:
        raise QueueConfigError([QueueConfigProblem(file, None, f"larger than {MAX_CONFIG_BYTES} bytes")])
    try:
        _refuse_deep_nesting(text, file)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise QueueConfigError([QueueConfigProblem(file, line, f"not valid YAML: {reason}")]) from None
    if root is None:
        raise QueueConfigError(
            [QueueConfigProblem(file, None, "is empty; it needs queues, rules and default_queue")]
        )
    return _Reader(file).config(root)


def load_queue_config(path: Path | None = None) -> QueueConfig:
    """Load the queue configuration at ``path``, or the packaged default (``queues.yaml``)."""
    path = path or DEFAULT_QUEUES
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise QueueConfigError(
                [QueueConfigProblem(str(path), None, f"larger than {MAX_CONFIG_BYTES} bytes")]
            )
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QueueConfigError([QueueConfigProblem(str(path), None, f"cannot be read: {exc}")]) from None
    return parse_queue_config(text, file=str(path))
