"""Load and validate policies: YAML documents with a CEL condition.

Why CEL: it is small, side-effect free and not Turing-complete (no loops, no I/O), so a policy can
neither hang the pipeline nor reach outside it; it compiles once and evaluates in microseconds; and
it is a known standard (Kubernetes, Envoy, Firebase) that policy authors can learn from public
documentation. See ``docs/policies.md`` for the language.

Every refusal names the file and line and says what would be accepted.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import cel
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vigil.domain.cases import ReviewMode
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import (
    Action,
    DecisionContext,
    Ground,
    GroundType,
    PolicyMode,
    Source,
)
from vigil.domain.jurisdictions import GLOBAL, TerritorialScope, UnknownCountryError
from vigil.domain.signals import Signal, SignalKind
from vigil.domain.taxonomy import Category

POLICY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_POLICY_BYTES = 64 * 1024
# How deep a policy file may nest, and how many values it may hold with its aliases expanded. A
# policy is a mapping holding a few lists and the ground's mapping: three levels, a few dozen values.
# Deeper nesting would exhaust Python's stack in the recursive YAML composer (a RecursionError, issue
# 12), and aliases of aliases ("billion laughs") let a 500-byte file hold billions of values for the
# validation and its messages to walk.
MAX_NESTING = 32
MAX_VALUES = 20_000


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One thing wrong with a policy file, located for the person who has to fix it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}" if self.line is not None else self.file
        return f"policy {where}: {self.message}"


class PolicyValidationError(ValueError):
    """A policy file that cannot be loaded; ``problems`` lists every reason found."""

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class _GroundDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: GroundType
    reference: str = Field(min_length=1, max_length=500)
    explanation: str = Field(min_length=1, max_length=2000)


# a pack's strike rules (vigil/review/strikes.py) sit beside its policies but are not a policy
STRIKE_RULES_STEM = "strikes"


class PolicyDocument(BaseModel):
    """The schema of one policy document (see ``docs/policies.md``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    description: str = Field(default="", max_length=2000)
    mode: PolicyMode = PolicyMode.ENFORCE
    when: str = Field(min_length=1, max_length=4000)
    category: Category
    ground: _GroundDocument
    actions: list[Action] = Field(default_factory=list, max_length=len(Action))
    territorial_scope: Literal["global"] | list[str] = "global"
    review: ReviewMode | None = None
    strikes: int = Field(default=0, ge=0, le=100)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not POLICY_ID.fullmatch(value):
            raise ValueError(
                "policy id must be 1-64 characters of lower-case letters, digits, '-' or '_',"
                " starting with a letter or digit"
            )
        return value


@dataclass(frozen=True, slots=True)
class PolicyDefinition:
    """A validated policy, not yet versioned by the store."""

    id: str
    description: str
    mode: PolicyMode
    when: str
    category: Category
    ground: Ground
    actions: frozenset[Action]
    territorial_scope: TerritorialScope
    review: ReviewMode | None
    source: str  # the YAML document as written
    strikes: int = 0  # what a restriction under this policy counts against its author and channel, kept verbatim with every version

    @property
    def digest(self) -> str:
        """Identifies the policy's meaning; applying an unchanged policy creates no new version."""
        return hashlib.sha256(self.source.strip().encode()).hexdigest()


def compile_condition(expression: str) -> Any:
    """Compile a CEL condition, raising ValueError with CEL's own located message on a syntax error."""
    return cel.compile(expression)


def _sample_activation() -> dict[str, Any]:
    """Variables with every field present, to catch misspelt fields at validation time."""
    from datetime import UTC, datetime

    content = Content(
        id="sample",
        kind=ContentKind.POST,
        audience=Audience.PUBLIC,
        author_id="author",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        channel_id="channel",
        country="DE",
        reach=1,
        language="de",
        text="sample",
        media=(MediaHashes("m1", "image/jpeg", "0" * 32, "0" * 64, 1),),
    )
    signal = Signal(
        detector="sample", kind=SignalKind.HASH_MATCH, category=Category.CSAM, score=1.0, label="x"
    )
    return {
        "content": content.to_activation(),
        "signals": [signal.to_activation()],
        "context": DecisionContext(Source.VOLUNTARY).to_activation(),
    }


_CEL_LOCATION = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")


def _first_cel_error(message: str) -> str:
    """CEL's first located error on one line: 'column 17: Syntax error: ...'."""
    for line in message.splitlines():
        found = _CEL_LOCATION.search(line)
        if found:
            row, column, reason = found.groups()
            where = f"column {column}" if row == "1" else f"line {row} column {column} of the condition"
            return f"{where}: {reason}"
    return message.splitlines()[0] if message else "syntax error"


_SAMPLE = cel.Context(_sample_activation())
_KNOWN_VARIABLES = ("content", "signals", "context")


_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_FIELD_ACCESS = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b(?!\s*\()")
_MACRO_VARIABLE = re.compile(r"\.(?:exists|all|exists_one|map|filter)\(\s*([A-Za-z_]\w*)\s*,")


def _misspelt_field(expression: str) -> str | None:
    """A field the condition reads that no variable has, found without running it.

    Running the condition on a sample cannot see a field behind a short-circuit (``a && b.typo``),
    so every ``name.field`` is also checked by reading: ``content`` and ``context`` against their
    own fields, and a macro's variable (``s`` in ``signals.exists(s, ...)``) against the fields of a
    signal or a media item.
    """
    code = _STRING_LITERAL.sub("''", expression)
    sample = _sample_activation()
    element_fields = set(sample["signals"][0]) | set(sample["content"]["media"][0])
    known = {"content": set(sample["content"]), "context": set(sample["context"])}
    for variable in _MACRO_VARIABLE.findall(code):
        known.setdefault(variable, element_fields)
    for variable, name in _FIELD_ACCESS.findall(code):
        fields = known.get(variable)
        if fields is not None and name not in fields:
            return f"condition refers to an unknown field '{variable}.{name}'{_suggest(name, sorted(fields))}"
    return None


def check_condition(expression: str) -> str | None:
    """Return why ``expression`` is not a usable policy condition, or None if it is.

    Beyond syntax, every field the condition reads is checked by name, and the condition is run once
    against a sample where every field exists, so a misspelt field (``content.audiance``) or a
    non-boolean result is caught now, not in production.
    """
    try:
        program = compile_condition(expression)
    except ValueError as exc:
        return f"invalid CEL condition: {_first_cel_error(str(exc))}"
    misspelt = _misspelt_field(expression)
    if misspelt:
        return misspelt
    try:
        result = program.execute(_SAMPLE)
    except KeyError as exc:
        return f"condition refers to an unknown field {exc.args[0]!r}"
    except RuntimeError as exc:
        message = str(exc)
        if "Undefined variable" in message:
            name = message.split("'")[1] if message.count("'") >= 2 else message
            return (
                f"condition refers to an unknown variable or function {name!r}; "
                f"the variables are {', '.join(_KNOWN_VARIABLES)}"
            )
        return f"condition fails on a sample item: {message}"
    except (IndexError, ArithmeticError, TypeError, ValueError) as exc:
        return f"condition fails on a sample item: {exc}"
    if not isinstance(result, bool):
        return f"condition must be true or false, but gives {type(result).__name__}"
    return None


def _line_of(node: yaml.Node, loc: Sequence[int | str]) -> int:
    """The 1-based line of the YAML node at ``loc``, or of its nearest existing ancestor."""
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    # an unknown key is best pointed at by the key itself
                    child = value_node
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_ENUM_FOR_FIELD: dict[str, type[StrEnum]] = {
    "mode": PolicyMode,
    "category": Category,
    "actions": Action,
    "type": GroundType,
}


def _describe(error: Any, data: Any) -> str:
    """A person-readable sentence for one pydantic error."""
    loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith(("literal[", "list[")))]
    field_name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = list((_GroundDocument if len(loc) > 1 else PolicyDocument).model_fields)
        return (
            f"unknown key {loc[-1]!r}{_suggest(str(loc[-1]), allowed)}; expected one of {', '.join(allowed)}"
        )
    if kind == "missing":
        return f"missing required key {'.'.join(str(p) for p in loc)!r}"
    if kind == "enum" and field_name in _ENUM_FOR_FIELD:
        choices = [m.value for m in _ENUM_FOR_FIELD[field_name]]
        noun = "action" if field_name == "actions" else field_name.replace("type", "ground type")
        return (
            f"unknown {noun} {value!r}{_suggest(str(value), choices)}; expected one of {', '.join(choices)}"
        )
    if field_name == "territorial_scope":
        return "territorial_scope must be 'global' or a list of ISO country codes such as [DE, AT]"
    if field_name == "review":
        return (
            "review must be 'before' (hold the restrictions until a reviewer decides) or"
            " 'after' (act now, a reviewer confirms)"
        )
    return f"{'.'.join(str(p) for p in loc) or 'document'}: {error['msg']}"


def _definition(doc: PolicyDocument, source: str) -> PolicyDefinition:
    scope = GLOBAL if doc.territorial_scope == "global" else TerritorialScope.of(doc.territorial_scope)
    return PolicyDefinition(
        id=doc.id,
        description=doc.description,
        mode=doc.mode,
        when=doc.when,
        category=doc.category,
        ground=Ground(doc.ground.type, doc.ground.reference, doc.ground.explanation),
        actions=frozenset(doc.actions),
        territorial_scope=scope,
        review=doc.review,
        source=source,
        strikes=doc.strikes,
    )


def _semantic_problems(doc: PolicyDocument, node: yaml.Node) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    reason = check_condition(doc.when)
    if reason:
        problems.append((_line_of(node, ["when"]), reason))
    if isinstance(doc.territorial_scope, list):
        for index, code in enumerate(doc.territorial_scope):
            try:
                TerritorialScope.of([code])
            except UnknownCountryError as exc:
                problems.append((_line_of(node, ["territorial_scope", index]), str(exc)))
        if not doc.territorial_scope:
            problems.append((_line_of(node, ["territorial_scope"]), "territorial_scope lists no country"))
        if Action.GEO_RESTRICT not in doc.actions:
            problems.append(
                (
                    _line_of(node, ["territorial_scope"]),
                    "a country list needs the geo_restrict action; other restrictions apply globally",
                )
            )
    elif Action.GEO_RESTRICT in doc.actions:
        problems.append(
            (_line_of(node, ["actions"]), "geo_restrict needs territorial_scope: a list of countries")
        )
    if not doc.actions and not doc.review:
        problems.append((_line_of(node, ["actions"]), "a policy must take an action or ask for review"))
    if len(set(doc.actions)) != len(doc.actions):
        problems.append((_line_of(node, ["actions"]), "an action is listed twice"))
    return problems


def parse_policies(text: str, file: str = "<input>") -> list[PolicyDefinition]:
    """Parse one or more ``---``-separated policy documents; raise PolicyValidationError listing every problem."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise PolicyValidationError([PolicyProblem(file, None, f"larger than {MAX_POLICY_BYTES} bytes")])
    try:
        too_much = _too_deep_or_large(text, file)
        if too_much is not None:
            raise PolicyValidationError([too_much])
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise PolicyValidationError([PolicyProblem(file, line, f"not valid YAML: {reason}")]) from None
    except RecursionError:  # the bounds above should make this unreachable; a 500 must not be
        raise PolicyValidationError([PolicyProblem(file, None, "nested too deeply to read")]) from None
    pieces = _split_documents(text, nodes)
    problems: list[PolicyProblem] = []
    definitions: list[PolicyDefinition] = []
    for node, data, source in zip(nodes, documents, pieces, strict=True):
        if node is None or data is None:
            continue
        if not isinstance(data, dict):
            problems.append(
                PolicyProblem(file, node.start_mark.line + 1, "a policy must be a mapping of keys")
            )
            continue
        try:
            doc = PolicyDocument.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(PolicyProblem(file, _line_of(node, error["loc"]), _describe(error, data)))
            continue
        found = _semantic_problems(doc, node)
        problems.extend(PolicyProblem(file, line, message) for line, message in found)
        if not found:
            definitions.append(_definition(doc, source))
    seen: set[str] = set()
    for definition in definitions:
        if definition.id in seen:
            problems.append(PolicyProblem(file, None, f"policy id {definition.id!r} appears twice"))
        seen.add(definition.id)
    if problems:
        raise PolicyValidationError(problems)
    if not definitions:
        raise PolicyValidationError([PolicyProblem(file, None, "contains no policy")])
    return definitions


def _too_deep_or_large(text: str, file: str) -> PolicyProblem | None:
    """Why ``text`` nests deeper than MAX_NESTING or holds more than MAX_VALUES values, if it does.

    Read from YAML's event stream, which the parser produces without recursion, before anything
    builds the documents; an alias counts as everything its anchor holds.
    """
    values = 0
    anchored: dict[str, int] = {}  # how many values each anchor holds
    open_collections: list[tuple[str | None, int]] = []  # each one's anchor and the count at its start
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            values += anchored.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
            if event.anchor:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            values += 1
            open_collections.append((event.anchor, values))
            if len(open_collections) > MAX_NESTING:
                return PolicyProblem(file, _event_line(event), f"nested more than {MAX_NESTING} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, start = open_collections.pop()
            if anchor:
                anchored[anchor] = values - start + 1
        if values > MAX_VALUES:
            return PolicyProblem(
                file, _event_line(event), f"holds more than {MAX_VALUES} values once its aliases are expanded"
            )
    return None


def _event_line(event: yaml.Event) -> int | None:
    return event.start_mark.line + 1 if event.start_mark is not None else None


def _split_documents(text: str, nodes: Sequence[yaml.Node | None]) -> list[str]:
    """The verbatim source of each document, so a stored version shows exactly what was applied."""
    lines = text.splitlines(keepends=True)
    starts = [n.start_mark.line if n is not None else 0 for n in nodes]
    # A block mapping ends at column 0 of the line after its last key (the next '---', or the
    # end of the text): that line is not part of the document.
    ends = [n.end_mark.line + (n.end_mark.column > 0) if n is not None else 0 for n in nodes]
    return ["".join(lines[s:e]).strip() + "\n" for s, e in zip(starts, ends, strict=True)]


def load_policy_file(path: Path) -> list[PolicyDefinition]:
    """Parse the policies in one file; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyValidationError([PolicyProblem(str(path), None, f"cannot be read: {exc}")]) from None
    return parse_policies(text, file=path.name)


def load_policy_paths(paths: Sequence[Path]) -> list[PolicyDefinition]:
    """Parse files and folders (``*.yaml`` / ``*.yml`` inside, sorted), collecting every problem."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p for p in path.iterdir() if p.suffix in {".yaml", ".yml"} and p.stem != STRIKE_RULES_STEM
                )
            )
        else:
            files.append(path)
    problems: list[PolicyProblem] = []
    definitions: list[PolicyDefinition] = []
    for file in files:
        try:
            definitions.extend(load_policy_file(file))
        except PolicyValidationError as exc:
            problems.extend(exc.problems)
    ids = [d.id for d in definitions]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(
            PolicyProblem(
                ", ".join(str(f.name) for f in files), None, f"policy id {duplicate!r} appears twice"
            )
        )
    if problems:
        raise PolicyValidationError(problems)
    return definitions


DEFAULT_PACK = Path(__file__).parent / "packs" / "default"
