"""The two CEL implementations on Vigil's own policy conditions: speed, compile time, agreement.

    .venv/bin/python bench/cel_engines.py            # 1,000 activations x every condition
    .venv/bin/python bench/cel_engines.py --quick    # 300 activations

* ``cel (Rust)``: the ``common-expression-language`` package (Rust, via PyO3), which Vigil uses:
  ``cel.compile(expr).execute(cel.Context(activation))``;
* ``celpy (pure Python)``: the ``cel-python`` package:
  ``env.program(env.compile(expr)).evaluate(celpy.json_to_cel(activation))``.

The conditions are the ``when`` of every policy in ``vigil/policy/packs/default/*.yaml``; the
activations are built as ``vigil.policy.engine.PolicySet.decide`` builds them
(``Content.to_activation()``, ``Signal.to_activation()``, ``DecisionContext.to_activation()``), from
a seeded mix of items: most with no signal, some with classifier, provenance and bank-match signals
of every category, so that every condition comes out true on some items.

Two timings per engine: ``eval only`` (the activation already converted to the engine's values) and
``per item`` (converting the activation once per item, then evaluating every condition on it, as
``PolicySet.decide`` does). Results are compared as booleans; an evaluation error counts as its
own result (``error: <type>``), so an error in one engine and a value in the other is a disagreement.
Times are CPU time of this (single-threaded) process, the least of a few repeats, since the
machine is shared and noisy; read the ratios, measured in the same run.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cel
import celpy
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vigil.domain.content import Audience, Content, ContentKind, MediaHashes  # noqa: E402
from vigil.domain.decisions import DecisionContext, Source  # noqa: E402
from vigil.domain.signals import Signal, SignalKind  # noqa: E402
from vigil.domain.taxonomy import Category  # noqa: E402
from vigil.policy.loader import DEFAULT_PACK  # noqa: E402

LABELS: dict[Category, tuple[str, ...]] = {
    Category.HATE_SPEECH: ("", "holocaust_denial", "incitement", "slur"),
    Category.FRAUD: ("", "phishing", "investment_scam"),
    Category.SPAM: ("", "bulk", "link_farm"),
    Category.ADULT_NUDITY: ("", "explicit"),
}


THRESHOLDS = (0.7, 0.8, 0.85, 0.9, 0.95, 1.0)


@dataclass(frozen=True)
class Condition:
    policy: str
    file: str
    when: str


def load_conditions(pack: Path = DEFAULT_PACK) -> list[Condition]:
    """Every policy's ``when``, exactly as written in the pack's YAML files."""
    conditions: list[Condition] = []
    for path in sorted(pack.glob("*.y*ml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(document, dict) and "when" in document:
                conditions.append(Condition(str(document["id"]), path.name, str(document["when"])))
    return conditions


def _signal(rng: random.Random, media_id: str) -> Signal:
    category = rng.choice(list(Category))
    kind = rng.choices(
        (SignalKind.CLASSIFIER, SignalKind.HASH_MATCH, SignalKind.PROVENANCE), weights=(70, 20, 10)
    )[0]
    if kind is SignalKind.HASH_MATCH:
        return Signal(
            detector="digest_bank",
            kind=kind,
            category=category,
            score=1.0,
            bank=f"{category.value}-bank",
            bank_version=rng.randint(1, 40),
            hash_type=rng.choice(("md5", "sha256")),
            distance=0,
            media_id=media_id,
        )
    if kind is SignalKind.PROVENANCE:
        return Signal(
            detector="c2pa",
            kind=kind,
            category=Category.ADULT_NUDITY if rng.random() < 0.5 else category,
            score=round(rng.uniform(0.5, 1.0), 3),
            label="ai_generated",
            media_id=media_id,
        )
    # classifier scores: mostly low, with a tail above the policies' thresholds, and some exactly on
    # a threshold (where a float comparison could differ between the engines)
    if rng.random() < 0.15:
        score = rng.choice(THRESHOLDS)
    else:
        score = round(min(1.0, rng.betavariate(2, 5) if rng.random() < 0.7 else rng.uniform(0.6, 1.0)), 3)
    return Signal(
        detector=f"{category.value}_classifier",
        kind=kind,
        category=category,
        score=score,
        label=rng.choice(LABELS.get(category, ("",))),
        media_id=media_id if rng.random() < 0.5 else "",
    )


def make_activations(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` activations as ``PolicySet.decide`` builds them."""
    rng = random.Random(seed)
    activations: list[dict[str, Any]] = []
    for i in range(count):
        media = tuple(
            MediaHashes(
                media_id=f"m{i}-{j}",
                mime_type=rng.choice(("image/jpeg", "image/png", "video/mp4")),
                md5=f"{rng.getrandbits(128):032x}",
                sha256=f"{rng.getrandbits(256):064x}",
                size_bytes=rng.randint(10_000, 5_000_000),
            )
            for j in range(rng.choices((0, 1, 2, 4), weights=(60, 25, 10, 5))[0])
        )
        content = Content(
            id=f"item-{i}",
            kind=rng.choice(list(ContentKind)),
            audience=rng.choices(list(Audience), weights=(70, 20, 10))[0],
            author_id=f"user-{rng.randrange(10_000)}",
            created_at=datetime(2026, 3, 1, tzinfo=UTC),
            channel_id=f"channel-{rng.randrange(500)}" if rng.random() < 0.3 else None,
            country=rng.choice(("DE", "FR", "GB", "PL", "ES", "IT", "US", None)),
            reach=int(rng.paretovariate(1.2) * 20),
            language=rng.choice(("en", "de", "fr", "es", "pl", None)),
            text="Lorem ipsum dolor sit amet " * rng.randint(1, 12),
            media=media,
        )
        n_signals = rng.choices((0, 1, 2, 3, 5), weights=(50, 25, 12, 8, 5))[0]
        media_ids = [m.media_id for m in media] or [""]
        signals = [_signal(rng, rng.choice(media_ids)) for _ in range(n_signals)]
        context = DecisionContext(rng.choices(list(Source), weights=(80, 10, 5, 3, 2))[0])
        activations.append(
            {
                "content": content.to_activation(),
                "signals": [s.to_activation() for s in signals],
                "context": context.to_activation(),
            }
        )
    return activations


# --------------------------------------------------------------------------------------------------
# The two engines behind one interface
# --------------------------------------------------------------------------------------------------


class Engine:
    name: str

    def compile(self, expression: str) -> Any:
        raise NotImplementedError

    def convert(self, activation: dict[str, Any]) -> Any:
        raise NotImplementedError

    def run(self, program: Any, converted: Any) -> Any:
        raise NotImplementedError

    def result(self, program: Any, converted: Any) -> str:
        """The evaluation's outcome as a comparable string: 'true', 'false', or 'error: <kind>'."""
        try:
            value = self.run(program, converted)
        except Exception as exc:
            return f"error: {type(exc).__name__}"
        return self.describe(value)

    def describe(self, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return f"non-bool: {type(value).__name__} {value!r}"


class RustCel(Engine):
    name = "cel (Rust)"

    def compile(self, expression: str) -> Any:
        return cel.compile(expression)

    def convert(self, activation: dict[str, Any]) -> Any:
        return cel.Context(activation)

    def run(self, program: Any, converted: Any) -> Any:
        return program.execute(converted)


class PyCel(Engine):
    name = "celpy (pure Python)"

    def __init__(self) -> None:
        self.env = celpy.Environment()

    def compile(self, expression: str) -> Any:
        return self.env.program(self.env.compile(expression))

    def convert(self, activation: dict[str, Any]) -> Any:
        return celpy.json_to_cel(activation)

    def run(self, program: Any, converted: Any) -> Any:
        return program.evaluate(converted)

    def describe(self, value: Any) -> str:
        if isinstance(value, celpy.CELEvalError):
            return f"error: {type(value).__name__}"
        if isinstance(value, celpy.celtypes.BoolType):
            return "true" if bool(value) else "false"
        return super().describe(value)


# --------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    engine: str
    compile_us: float  # mean microseconds to compile one condition
    eval_per_s: float  # evaluations per second, activation already converted
    item_per_s: float  # items per second, converting once then evaluating every condition
    convert_us: float  # mean microseconds to convert one item's activation
    evaluations: int


def best_of(repeats: int, work: Callable[[], None]) -> float:
    """The least CPU time of ``repeats`` runs.

    CPU time rather than the wall clock, and the least of several runs: this is single-threaded
    computation, and the machine is shared, so the wall clock would also count the time other
    tenants held the core (and the two engines are timed at different moments).
    """
    times = []
    for _ in range(repeats):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return min(times)


def measure(
    engine: Engine, conditions: Sequence[Condition], activations: Sequence[dict[str, Any]], repeats: int
) -> Timing:
    compile_rounds = 20
    compile_seconds = best_of(repeats, lambda: [engine.compile(c.when) for c in conditions * compile_rounds])
    programs = [engine.compile(c.when) for c in conditions]
    converted = [engine.convert(a) for a in activations]
    run = engine.run

    def eval_only() -> None:
        for context in converted:
            for program in programs:
                run(program, context)

    def per_item() -> None:
        convert = engine.convert
        for activation in activations:
            context = convert(activation)
            for program in programs:
                run(program, context)

    def convert_only() -> None:
        convert = engine.convert
        for activation in activations:
            convert(activation)

    evaluations = len(programs) * len(activations)
    convert_seconds = best_of(repeats, convert_only)
    eval_seconds = best_of(repeats, eval_only)
    item_seconds = best_of(repeats, per_item)
    return Timing(
        engine.name,
        compile_seconds / (compile_rounds * len(conditions)) * 1e6,
        evaluations / eval_seconds,
        len(activations) / item_seconds,
        convert_seconds / len(activations) * 1e6,
        evaluations,
    )


def compare(
    engines: Sequence[Engine], conditions: Sequence[Condition], activations: Sequence[dict[str, Any]]
) -> tuple[list[str], dict[str, dict[str, int]]]:
    """Every (condition, activation) through both engines; the disagreements and each condition's
    tally of results in the first engine."""
    first, second = engines
    programs = [(first.compile(c.when), second.compile(c.when)) for c in conditions]
    disagreements: list[str] = []
    tally: dict[str, dict[str, int]] = {c.policy: {} for c in conditions}
    for index, activation in enumerate(activations):
        a, b = first.convert(activation), second.convert(activation)
        for condition, (pa, pb) in zip(conditions, programs, strict=True):
            ra, rb = first.result(pa, a), second.result(pb, b)
            tally[condition.policy][ra] = tally[condition.policy].get(ra, 0) + 1
            if ra != rb:
                disagreements.append(
                    f"{condition.policy} on activation {index}: {first.name.split()[0]} -> {ra},"
                    f" {second.name.split()[0]} -> {rb}; signals={activation['signals']}"
                )
    return disagreements, tally


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--activations", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--show", type=int, default=20, help="disagreements to print (default 20)")
    args = parser.parse_args(argv)
    count = args.activations or (300 if args.quick else 1000)
    logging.getLogger("celpy").setLevel(logging.ERROR)

    conditions = load_conditions()
    activations = make_activations(count)
    engines: list[Engine] = [RustCel(), PyCel()]
    print(
        f"{len(conditions)} conditions from {DEFAULT_PACK.relative_to(ROOT)}, {count} activations"
        f" ({statistics.mean(len(a['signals']) for a in activations):.2f} signals each on average)",
        flush=True,
    )

    disagreements, tally = compare(engines, conditions, activations)
    # the pure-Python engine is ~100x slower: fewer repeats keep the run short, and its timings
    # vary less relative to their length anyway
    timings = [
        measure(engine, conditions, activations, repeats)
        for engine, repeats in zip(engines, (5, 2), strict=True)
    ]
    rust, python = timings

    from rich.console import Console
    from rich.table import Table

    console = Console(width=110)
    table = Table(title="CEL engines on the default pack's conditions")
    table.add_column("engine")
    table.add_column("compile µs/expr", justify="right")
    table.add_column("evaluations", justify="right")
    table.add_column("evals/s", justify="right")
    table.add_column("items/s", justify="right")
    table.add_column("µs/item", justify="right")
    table.add_column("convert µs/item", justify="right")
    for t in timings:
        per_item_us = 1e6 / t.item_per_s
        convert_us = t.convert_us
        table.add_row(
            t.engine,
            f"{t.compile_us:,.0f}",
            f"{t.evaluations:,}",
            f"{t.eval_per_s:,.0f}",
            f"{t.item_per_s:,.0f}",
            f"{per_item_us:,.1f}",
            f"{convert_us:,.1f} ({convert_us / per_item_us:.0%})",
        )
    console.print(table)
    print(
        "evals/s: evaluations of one condition on an activation already converted to the engine's values;\n"
        "items/s: converting an item's activation once, then evaluating every condition on it"
        " (as PolicySet.decide does);\n"
        "convert: turning one item's activation (plain dicts) into the engine's values, alone."
    )

    ratios = Table(title="Ratios (cel / celpy, same run)")
    ratios.add_column("measure")
    ratios.add_column("cel is faster by", justify="right")
    ratios.add_row("evaluation only", f"{rust.eval_per_s / python.eval_per_s:,.1f}x")
    ratios.add_row("per item (convert + all conditions)", f"{rust.item_per_s / python.item_per_s:,.1f}x")
    ratios.add_row("compile", f"{python.compile_us / rust.compile_us:,.1f}x")
    console.print(ratios)

    results = Table(title="Results per condition (cel; identical in celpy unless listed below)")
    results.add_column("policy")
    results.add_column("true", justify="right")
    results.add_column("false", justify="right")
    results.add_column("other", justify="right")
    for condition in conditions:
        counts = tally[condition.policy]
        other = {k: v for k, v in counts.items() if k not in ("true", "false")}
        results.add_row(
            condition.policy,
            str(counts.get("true", 0)),
            str(counts.get("false", 0)),
            ", ".join(f"{k}: {v}" for k, v in other.items()) or "-",
        )
    console.print(results)

    total = len(conditions) * len(activations)
    if disagreements:
        console.print(f"[bold red]{len(disagreements)} of {total:,} results disagree[/]")
        for line in disagreements[: args.show]:
            console.print(f"  {line}", markup=False)
    else:
        console.print(f"agreement: all {total:,} results identical in both engines")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
