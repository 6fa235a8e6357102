"""`vigil classify`: JSON lines in, one result per item out; a bad line is reported and skipped."""

from __future__ import annotations

import io
import json
import sys

import pytest

from tests.api.cli import run
from vigil.classify import MAX_LINE_BYTES

DRUG_OFFER = "selling coke and weed, DM me on telegram, fast delivery"


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_a_text_given_on_the_command_line_is_classified_with_its_evidence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "classify", "--text", DRUG_OFFER, "--json", "--first-stage-only")
    result = json.loads(out)

    assert code == 0
    assert (result["language"], result["flagged"]) == ("en", ["drugs"])
    [drugs] = [s for s in result["signals"] if s["category"] == "drugs"]
    assert (drugs["detector"], 0.0 <= drugs["score"] <= 1.0) == ("text_classifier", True)
    spans = [DRUG_OFFER[e["start"] : e["end"]] for e in drugs["evidence"]]
    assert spans == [e["text"] for e in drugs["evidence"]]
    assert any("coke" in span for span in spans)


def test_json_lines_are_classified_in_order_and_bad_lines_reported_without_stopping(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        json.dumps({"id": "a", "text": DRUG_OFFER}).encode(),
        b"{not json",
        b'{"id": "b", "text": "caf\xe9 latte"}',  # Latin-1, not UTF-8
        json.dumps({"id": "c"}).encode(),
        b"x" * (MAX_LINE_BYTES + 10),
        json.dumps({"id": "d", "text": "Lovely weather in Jakarta, see you at lunch"}).encode(),
        json.dumps({"id": "e", "text": ""}).encode(),
    ]
    _stdin(monkeypatch, b"\n".join(lines) + b"\n")

    code, out, _ = run(capsys, "classify", "--json", "--first-stage-only")
    results = [json.loads(line) for line in out.splitlines()]

    assert code == 1  # some lines could not be read
    assert [r["id"] for r in results] == ["a", None, None, "c", None, "d", "e"]
    assert results[0]["flagged"] == ["drugs"]
    assert results[1]["error"] == "line 2: not JSON"
    assert results[2]["error"].startswith("line 3: not valid UTF-8")
    assert results[3]["error"] == "line 4: 'text' must be a string"
    assert results[4]["error"] == f"line 5: longer than {MAX_LINE_BYTES} bytes"
    assert (results[5]["flagged"], results[6]["signals"], results[6]["language"]) == ([], [], "")


def test_the_human_output_names_flagged_categories_and_reports_errors_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, json.dumps({"id": "a", "text": DRUG_OFFER}).encode() + b"\n[1, 2]\n")
    code, out, err = run(capsys, "classify", "--first-stage-only")
    assert code == 1
    assert out.splitlines()[0] == "a [en] drugs"
    assert err == 'vigil: line 2: expected an object {"id", "text"}\n'
