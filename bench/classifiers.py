"""What Vigil's text classifier costs, side by side with an earlier cascade, and the corpus split.

    .venv/bin/python bench/classifiers.py                       # cost on the test split, vs 4a9af7d
    .venv/bin/python bench/classifiers.py --baseline REV        # ... against another commit
    .venv/bin/python bench/classifiers.py split                 # rewrite dev.jsonl and test.jsonl

Quality is measured by ``vigil eval tests/data/text_corpus/test.jsonl`` (flags, review routing and
automatic actions of the default pack, per category, language and kind, with intervals).

The corpus is ``tests/data/text_corpus/<lang>.jsonl`` (one file per language, described in that
folder's README). ``split`` divides all of them into ``dev.jsonl`` and ``test.jsonl``, half and half
within every stratum (language, kind, category): tune on dev, report on test.

The split is stable: inside a stratum the items are taken in the order of their ids, two by two; the
first of each pair goes to the side named by a bit of the SHA-256 of its id and the second to the
other side. Ids are numbered in the order items are written (``en-drugs-014`` after ``en-drugs-013``),
so appending items never moves an existing one, and every stratum is split within one item of 50/50
(a pure per-id coin would leave small strata lopsided: 3 of 12 in test is not rare).

Cost: the split's texts are classified with ``classify_many`` (batches of 256, the language detected
as in production) on ONE core (the process is pinned to a CPU, and the encoder and BLAS run one
thread), after a warm-up pass, in three configurations: the first stage alone (``first_stage`` with
the language given), the cascade with the second stage off, and the whole cascade. Each runs in a
fresh subprocess, once with this checkout and once with the baseline commit's ``vigil`` (extracted
with ``git archive``), one after the other on the same core, so the ratios compare like with like.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CORPUS_DIR = ROOT / "tests" / "data" / "text_corpus"
SPLITS = ("dev", "test")
CATEGORIES = ("terrorism", "drugs", "fraud", "hate_speech", "grooming", "ncii", "spam")
KINDS = ("positive", "hard_negative", "benign")
LANGUAGE_FILE = re.compile(r"^([a-z]{2})\.jsonl$")
ID_PATTERN = re.compile(r"^(?P<lang>[a-z]{2})-(?P<topic>[a-z_]+?)(?P<hn>-hn)?-(?P<number>\d{3,})$")
MAX_TEXT_CHARS = 20_000  # a corpus line is a message, not a document: longer means a broken file
BASELINE = "4a9af7d"  # the cascade before issue 16: stage 2 on the texts stage 1 was unsure of, max of both
TARGET_TEXTS_PER_S = 500.0  # issue 16: the whole cascade, one core, in batches


# ---- the corpus -------------------------------------------------------------------------------------


class CorpusError(ValueError):
    """A corpus line that breaks the format; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled text of the corpus, with the line it was read from (kept verbatim for the splits)."""

    id: str
    text: str
    language: str
    labels: tuple[str, ...]
    kind: str
    negative_type: str
    note: str
    line: str

    @property
    def topic(self) -> str:
        """The category the item is about: its first label, the category a hard negative borrows its
        words from (named in its id, ``<lang>-<category>-hn-<n>``), or ``benign``."""
        if self.kind == "benign":
            return "benign"
        if self.labels:
            return self.labels[0]
        match = ID_PATTERN.match(self.id)
        return match["topic"] if match else ""

    @property
    def stratum(self) -> tuple[str, str, str]:
        return (self.language, self.kind, self.topic)


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise CorpusError(f"{where}: {message}")


def parse_item(line: str, where: str) -> Item:
    """One corpus line as an ``Item``; ``CorpusError`` (naming ``where``) when it breaks the format."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        raise CorpusError(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
    _require(isinstance(raw, dict), where, "expected a JSON object")
    for key in ("id", "text", "language", "kind", "note"):
        _require(
            isinstance(raw.get(key), str) and raw[key] != "", where, f"'{key}' must be a non-empty string"
        )
    labels = raw.get("labels")
    _require(
        isinstance(labels, list) and all(isinstance(x, str) for x in labels),
        where,
        "'labels' must be a list of strings",
    )
    unknown = sorted(set(labels) - set(CATEGORIES))
    _require(not unknown, where, f"unknown label(s) {unknown}; expected some of {list(CATEGORIES)}")
    _require(len(set(labels)) == len(labels), where, "a label is repeated")
    kind = raw["kind"]
    _require(kind in KINDS, where, f"unknown kind {kind!r}; expected one of {list(KINDS)}")
    _require((kind == "positive") == bool(labels), where, "positives need labels; negatives must have none")
    _require(len(raw["text"]) <= MAX_TEXT_CHARS, where, f"text longer than {MAX_TEXT_CHARS} characters")
    negative_type = raw.get("negative_type", "")
    _require(isinstance(negative_type, str), where, "'negative_type' must be a string")
    _require(
        (kind == "hard_negative") == bool(negative_type),
        where,
        "'negative_type' is required on hard negatives only",
    )
    item = Item(
        raw["id"], raw["text"], raw["language"], tuple(labels), kind, negative_type, raw["note"], line
    )
    match = ID_PATTERN.match(item.id)
    _require(match is not None, where, f"id {item.id!r} is not <lang>-<category|benign>[-hn]-<number>")
    assert match is not None
    _require(match["lang"] == item.language, where, f"id {item.id!r} does not start with its language")
    expected = {"positive": item.topic, "hard_negative": item.topic, "benign": "benign"}[kind]
    _require(
        match["topic"] == expected and expected in (*CATEGORIES, "benign"),
        where,
        f"id {item.id!r} does not name {expected!r}",
    )
    _require(
        bool(match["hn"]) == (kind == "hard_negative"), where, "only hard negatives carry '-hn' in the id"
    )
    return item


def read_items(path: Path) -> list[Item]:
    """Every item of one JSON-lines file (blank lines skipped), validated."""
    items = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                items.append(parse_item(line.rstrip("\n"), f"{path.name} line {number}"))
    return items


def language_files(corpus: Path = CORPUS_DIR) -> list[Path]:
    """The per-language files ``<lang>.jsonl`` of the corpus, by name."""
    return sorted(p for p in corpus.iterdir() if LANGUAGE_FILE.match(p.name))


def load_corpus(corpus: Path = CORPUS_DIR) -> list[Item]:
    """All items of all per-language files; each file holds only its own language; ids unique."""
    items: list[Item] = []
    seen: dict[str, str] = {}
    for path in language_files(corpus):
        language = LANGUAGE_FILE.match(path.name)[1]  # type: ignore[index]
        for item in read_items(path):
            if item.language != language:
                raise CorpusError(f"{path.name}: item {item.id} has language {item.language!r}")
            if item.id in seen:
                raise CorpusError(f"{path.name}: id {item.id} already used in {seen[item.id]}")
            seen[item.id] = path.name
            items.append(item)
    return items


# ---- the split ----------------------------------------------------------------------------------------


def _id_key(item_id: str) -> tuple[str, int]:
    match = ID_PATTERN.match(item_id)
    return (item_id, 0) if match is None else (item_id[: match.start("number")], int(match["number"]))


def assign_splits(items: Iterable[Item]) -> dict[str, str]:
    """``{id: "dev" | "test"}``: pairs in id order within each stratum, the first of a pair placed by
    the SHA-256 of its id and the second opposite, so that appended items never move existing ones."""
    strata: dict[tuple[str, str, str], list[Item]] = defaultdict(list)
    for item in items:
        strata[item.stratum].append(item)
    side: dict[str, str] = {}
    for members in strata.values():
        members.sort(key=lambda item: _id_key(item.id))
        for position, item in enumerate(members):
            if position % 2 == 0:
                side[item.id] = SPLITS[hashlib.sha256(item.id.encode()).digest()[0] & 1]
            else:
                side[item.id] = SPLITS[1 - SPLITS.index(side[members[position - 1].id])]
    return side


def write_splits(corpus: Path = CORPUS_DIR) -> dict[str, int]:
    """Rewrite ``dev.jsonl`` and ``test.jsonl`` from the per-language files; the item count of each."""
    items = load_corpus(corpus)
    side = assign_splits(items)
    counts = {}
    for split in SPLITS:
        chosen = [item.line for item in items if side[item.id] == split]
        (corpus / f"{split}.jsonl").write_text("".join(line + "\n" for line in chosen), encoding="utf-8")
        counts[split] = len(chosen)
    return counts


# ---- cost ------------------------------------------------------------------------------------------------

# run in a subprocess with the checkout to measure on sys.path: times three configurations over the
# texts in argv[1] (a JSON list of [text, language]) and prints one JSON object
_MEASURE = r"""
import json, os, sys, time
os.sched_setaffinity(0, {int(sys.argv[3])})
texts = json.load(open(sys.argv[1], encoding="utf-8"))
passes = int(sys.argv[2])
from vigil.detect.text.classifier import TextClassifier
first = TextClassifier(use_second_stage=False)
full = TextClassifier(use_second_stage=True)
plain = [t for t, _ in texts]

def rate(call):
    call()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(passes):
        call()
    return {"wall": len(plain) * passes / (time.perf_counter() - wall),
            "cpu": len(plain) * passes / (time.process_time() - cpu)}

out = {
    "first_stage (language given)": rate(lambda: [first.first_stage(t, lang) for t, lang in texts]),
    "cascade, second stage off": rate(lambda: first.classify_many(plain)),
}
if full.has_second_stage:
    out["whole cascade"] = rate(lambda: full.classify_many(plain))
print(json.dumps(out))
"""


def measure(checkout: Path, texts_file: Path, passes: int, core: int) -> dict[str, dict[str, float]]:
    """Texts/s (wall clock and CPU) of each configuration, with ``checkout``'s ``vigil``."""
    env = {
        **os.environ,
        "PYTHONPATH": str(checkout),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "VIGIL_NATIVE_THREADS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(texts_file), str(passes), str(core)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"measuring {checkout} failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def cost(split: str, baseline: str, passes: int, corpus: Path) -> int:
    items = read_items(corpus / f"{split}.jsonl")
    core = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    with tempfile.TemporaryDirectory() as scratch:
        texts_file = Path(scratch) / "texts.json"
        texts_file.write_text(json.dumps([[i.text, i.language] for i in items]), encoding="utf-8")
        old = Path(scratch) / "baseline"
        old.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", baseline, "vigil"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        now = measure(ROOT, texts_file, passes, core)
        then = measure(old, texts_file, passes, core)
    print(
        f"split: {split} ({len(items)} texts), {passes} timed passes, one core (CPU {core}); baseline {baseline}"
    )
    print(
        f"{'configuration':<32} {'baseline texts/s':>17} {'now texts/s':>12} {'now/baseline':>13} {'now by CPU':>11}"
    )
    for name in now:
        before = then.get(name, {}).get("wall")
        after = now[name]["wall"]
        shown = f"{before:,.0f}" if before else "-"
        change = f"{after / before:.2f}x" if before else "-"
        print(f"{name:<32} {shown:>17} {after:>12,.0f} {change:>13} {now[name]['cpu']:>11,.0f}")
    whole = now.get("whole cascade", {}).get("wall")
    if whole is not None:
        verdict = "PASS" if whole >= TARGET_TEXTS_PER_S else "FAIL"
        print(
            f"target: whole cascade >= {TARGET_TEXTS_PER_S:,.0f} texts/s on one core: {verdict} ({whole:,.0f})"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=SPLITS, default="test", help="whose texts to time (default test)")
    parser.add_argument(
        "--baseline", default=BASELINE, help=f"the commit to compare with (default {BASELINE})"
    )
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the split")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("split", help="rewrite dev.jsonl and test.jsonl from the per-language files")
    args = parser.parse_args(argv)
    try:
        if args.command == "split":
            counts = write_splits(args.corpus)
            print(", ".join(f"{split}.jsonl: {n} items" for split, n in counts.items()))
            return 0
        return cost(args.split, args.baseline, max(1, args.passes), args.corpus)
    except (CorpusError, OSError, RuntimeError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
