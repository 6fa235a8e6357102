"""The layer contract of ``vigil/``, checked on the source (docs/architecture.md, "Layers").

The import graph is built with ``ast`` from every module of the package: imports at module level,
inside functions and under ``if TYPE_CHECKING:`` all count, because an import moved into a function
to dodge a cycle is still a dependency, and still a cycle.

Two rules:

* no import cycle between modules of ``vigil/``;
* every import goes downwards: a module imports its own component or a component of a lower layer;
  components that share a layer do not import each other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "vigil"

# The layers, lowest first. A component is a set of module prefixes (a module belongs to the
# component with the longest matching prefix; ``vigil`` alone catches a new top-level module, which
# must then be placed here). Components in one layer are independent of each other.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "domain": ("vigil.domain",),
    "detect": ("vigil.detect",),
    "policy": ("vigil.policy",),
    "config": ("vigil", "vigil.config"),
    "background": ("vigil.background",),
    # metrics, logs, readiness: imports nothing of Vigil, so that every layer may report to it
    "observe": ("vigil.observe",),
    "store": ("vigil.store",),
    "review": ("vigil.review",),
    # who may send what: authorities, trusted flaggers, points of contact, the legal safeguards
    "intake registries": (
        "vigil.intake.authorities",
        "vigil.intake.contact",
        "vigil.intake.flaggers",
        "vigil.intake.safeguards",
    ),
    "enforce": ("vigil.enforce",),
    # the cluster's figures for /metrics, read from the store at scrape time
    "cluster metrics": ("vigil.observe.cluster",),
    "transparency": ("vigil.transparency",),
    "pipeline": ("vigil.pipeline",),
    # the desks that take notices and orders through the pipeline
    "intake": ("vigil.intake",),
    "api": ("vigil.api",),
    "web": ("vigil.web",),
    "app": ("vigil.api.app",),
    "stream": ("vigil.stream",),
    "demo": ("vigil.demo",),
    "scan": ("vigil.scan",),
    "classify": ("vigil.classify",),
    "evaluate": ("vigil.evaluate",),
    "cluster": ("vigil.cluster",),
    "cli": ("vigil.cli", "vigil.__main__"),
}
LAYERS: tuple[tuple[str, ...], ...] = (
    ("domain",),  # the vocabulary: typed models and enums, no I/O
    ("detect", "policy"),  # the pure core: content in, signals out; signals in, a decision out
    ("config", "background", "observe"),  # settings, the background thread, metrics/logs/readiness
    ("store",),  # SQLAlchemy tables and one repository module per aggregate
    # three independent components: review (queues, routing, cases, appeals, strikes, quality), the
    # intake registries, and enforce (actions, events and the outbox, webhooks, egress, evidence,
    # hotline). What they share is in domain (domain/values.py, domain/events.py); what review needs
    # of the layers above (the pipeline, answering notices and appeals) it is given (DecisionPath)
    ("review", "intake registries", "enforce", "cluster metrics"),
    ("transparency",),  # statements of reasons, the DSA database, daily and periodic figures
    ("pipeline",),  # the decision path and its hooks; retroactive matching, admin
    ("intake",),
    ("api",),  # HTTP routes, auth, dependencies
    ("web",),  # the consoles and public pages, on the API's auth and dependencies
    ("app", "stream"),  # create_app: puts the API and the pages together; the stream worker
    ("demo", "scan", "classify", "evaluate", "cluster"),
    ("cli",),
)

# ---------------------------------------------------------------------------------------------------
# KNOWN EXCEPTIONS: the only allow-list. Each entry says what removes it; delete the entry in the
# change that does (the tests below fail on an entry that is no longer needed).
# ---------------------------------------------------------------------------------------------------
KNOWN_CYCLES: dict[frozenset[str], str] = {
    # none: the last one, web/console.py <-> web/legal.py (and web/org_sign_in.py), went with the
    # consoles' shared parts moving to web/common.py (issue "A house that is easy to extend"). An entry
    # is the set of modules of the cycle, e.g. frozenset({"vigil.web.console", "vigil.web.legal"}).
}
KNOWN_BREACHES: dict[tuple[str, str], str] = {
    # none: the last ones, store.appeals and store.notices counting the day's figures themselves, went
    # with the store taking and returning records (issue "A house that is easy to extend"). An entry
    # is (importer, imported), e.g. ("vigil.store.notices", "vigil.transparency.daily").
}


@dataclass(frozen=True, slots=True)
class Import:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} ({_path(self.importer)}:{self.line})"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _path(module: str) -> str:
    return str(MODULES[module].relative_to(ROOT.parent))


def _known(name: str) -> str | None:
    """The module ``name`` is, or is in (``vigil.store.cases.add_case`` -> ``vigil.store.cases``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[Import]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    yield from _imports_in(module, package, path.read_text(encoding="utf-8"))


def _imports_in(module: str, package: str, source: str) -> Iterator[Import]:
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from vigil.store import cases`` imports the module vigil.store.cases
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target == "vigil" or target.startswith("vigil."):
                imported = _known(target)
                if imported is not None and imported != module:
                    yield Import(module, imported, node.lineno)


def import_graph() -> dict[str, dict[str, Import]]:
    """Every module of vigil/ with the modules of vigil/ it imports (the first import of each)."""
    graph: dict[str, dict[str, Import]] = {}
    for module in MODULES:
        edges: dict[str, Import] = {}
        for found in _imports(module):
            edges.setdefault(found.imported, found)
        graph[module] = edges
    return graph


def _strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other, each of two or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(graph[successor])))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def _chain(graph: dict[str, dict[str, Import]], group: list[str]) -> str:
    """One cycle through ``group``, as the chain of imports that closes it."""
    members = set(group)
    start = group[0]
    paths: dict[str, list[Import]] = {start: []}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for successor, found in graph[node].items():
            if successor == start:
                steps = [*paths[node], found]
                return "\n    ".join(str(step) for step in steps)
            if successor in members and successor not in paths:
                paths[successor] = [*paths[node], found]
                queue.append(successor)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def _component(module: str) -> str:
    best = ""
    name = ""
    for component, prefixes in COMPONENTS.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, name = prefix, component
    return name


LEVEL = {component: level for level, layer in enumerate(LAYERS) for component in layer}


def test_every_component_has_one_layer() -> None:
    placed = [component for layer in LAYERS for component in layer]
    assert sorted(placed) == sorted(COMPONENTS), "each component of COMPONENTS goes in exactly one layer"


def test_no_import_cycle_between_modules() -> None:
    graph = import_graph()
    cycles = {frozenset(group): group for group in _strongly_connected(graph)}
    unknown = [
        f"{' <-> '.join(group)}:\n    {_chain(graph, group)}"
        for members, group in cycles.items()
        if members not in KNOWN_CYCLES
    ]
    assert not unknown, "import cycles in vigil/ (break each; docs/architecture.md):\n" + "\n".join(unknown)
    gone = [sorted(members) for members in KNOWN_CYCLES if members not in cycles]
    assert not gone, f"these cycles are gone: delete them from KNOWN_CYCLES: {gone}"


def test_every_import_respects_the_layers() -> None:
    breaches: list[str] = []
    seen: set[tuple[str, str]] = set()
    for module, edges in import_graph().items():
        own = _component(module)
        for imported, found in edges.items():
            theirs = _component(imported)
            if theirs == own:
                continue
            upwards = LEVEL[theirs] > LEVEL[own]
            sideways = LEVEL[theirs] == LEVEL[own]
            if not (upwards or sideways):
                continue
            seen.add((module, imported))
            if (module, imported) not in KNOWN_BREACHES:
                where = "a higher layer" if upwards else "a component of its own layer"
                breaches.append(f"{found}: {own} imports {theirs}, {where}")
    assert not breaches, "imports against the layer contract (docs/architecture.md):\n" + "\n".join(breaches)
    gone = sorted(edge for edge in KNOWN_BREACHES if edge not in seen)
    assert not gone, f"these imports respect the layers now: delete them from KNOWN_BREACHES: {gone}"


def test_the_graph_sees_every_kind_of_import() -> None:
    # the contract is only as good as the graph: a lazy or a typing-only import is an import too
    source = """
from typing import TYPE_CHECKING
import vigil.store.db
from vigil.store import cases as case_store
from .queues import QueueConfig
if TYPE_CHECKING:
    from vigil.pipeline.service import Pipeline
def later():
    from vigil.transparency.daily import count_decision
"""
    found = {i.imported for i in _imports_in("vigil.review.example", "vigil.review", source)}
    assert found == {
        "vigil.store.db",
        "vigil.store.cases",
        "vigil.review.queues",
        "vigil.pipeline.service",
        "vigil.transparency.daily",
    }
