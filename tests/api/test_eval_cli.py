"""`vigil eval` as an evaluator runs it: a labelled split in, the classifier and the default pack
measured per category, language and kind, and bad input refused with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.api.cli import run

ITEMS = [
    {
        "id": "en-drugs-1",
        "text": "Selling coke and mdma tonight, discreet delivery, DM me for prices",
        "language": "en",
        "labels": ["drugs"],
        "kind": "positive",
    },
    {
        "id": "en-drugs-2",
        "text": "c 0 k e and w33d delivery, fast, discreet. dm for the menu",
        "language": "en",
        "labels": ["drugs"],
        "kind": "positive",
        "evasion": "mixed",
    },
    {
        "id": "en-drugs-hn-1",
        "text": "Police seized 300 kg of cocaine in the harbour, officials said on Monday",
        "language": "en",
        "labels": [],
        "kind": "hard_negative",
        "negative_type": "news",
    },
    {
        "id": "en-benign-1",
        "text": "See you tomorrow at the station, I'll bring the tickets",
        "language": "en",
        "labels": [],
        "kind": "benign",
    },
]


def split(tmp_path: Path, items: list[dict[str, object]]) -> Path:
    path = tmp_path / "split.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def test_eval_measures_flags_routing_and_automatic_actions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "eval", str(split(tmp_path, ITEMS)), "--json")

    assert (code, err) == (0, "")
    result = json.loads(out)
    cells = {(c["outcome"], c["category"], c["language"], c["kind"]): c for c in result["cells"]}
    flagged = cells["flagged", "drugs", "all", "all"]
    assert (flagged["tp"], flagged["fp"]) == (2, 0)  # the offers, not the news report
    assert flagged["precision_ci"][1] == 1.0
    assert flagged["precision_ci"][0] < 0.5  # two items say little
    assert cells["flagged", "drugs", "all", "evasive"]["tp"] == 1
    acted = cells["acted", "drugs", "all", "all"]
    assert acted["fp"] == 0
    negatives = {(n["outcome"], n["type"], n["language"]): n for n in result["negatives"]}
    assert negatives["acted", "news", "all"]["hit"] == 0


def test_eval_prints_tables(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "eval", str(split(tmp_path, ITEMS)))

    assert code == 0
    assert "Per category, all languages" in out
    assert "drugs" in out
    assert "hard negatives flagged" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "x", "text": "t", "language": "en", "labels": ["drugz"], "kind": "positive"}\n', "line 1"),
        ("not json\n", "line 1"),
        ("", "no items"),
    ],
)
def test_eval_refuses_a_bad_split_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "eval", str(path))

    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_eval_refuses_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "eval", str(tmp_path / "missing.jsonl"))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
