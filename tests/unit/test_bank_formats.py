"""Reading and writing hash lists: every row accepted or refused with its line and reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigil.detect.hashing.banks import (
    BankFileError,
    BankFormat,
    ExportRow,
    parse_bank_file,
    parse_csv,
    parse_plain,
    parse_threatexchange,
    to_csv,
)
from vigil.domain.hashes import HashType
from vigil.domain.taxonomy import Category

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
HEADER = "hash_type,hash_value,category,source,source_id,added_at,note\n"


def test_the_spec_example_reads_back_with_its_metadata() -> None:
    text = HEADER + f"pdq,{PDQ.upper()},csam,ncmec,NC-123,2026-11-01T00:00:00Z,\nmd5,{MD5},csam,ncmec,,,\n"

    parsed = parse_csv(text, Category.CSAM)

    assert parsed.refused == []
    first = parsed.accepted[0]
    assert (first.line, first.hash.hash_type, first.hash.value) == (2, HashType.PDQ, PDQ)
    assert (first.hash.source, first.hash.source_id) == ("ncmec", "NC-123")
    assert first.hash.added_at == datetime(2026, 11, 1, tzinfo=UTC)
    assert parsed.accepted[1].hash.added_at is None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (f"md5,{MD5[:-1]},csam,,,,", "is not a md5 hash"),
        (f"crc32,{MD5},csam,,,,", "unknown hash type 'crc32'"),
        (f"md5,{MD5},terrorism,,,,", "does not match the bank's category 'csam'"),
        (f"md5,{MD5},csam,,,2026-11-01,", "needs a time zone"),
        (f"md5,{MD5},csam,,,yesterday,", "Invalid isoformat"),
        (f"md5,{MD5},csam", "expected 7 columns, found 3"),
        (f"md5,{MD5},csam,,,," + "x" * 1001, "note is longer than 1000 characters"),
    ],
)
def test_bad_rows_are_refused_with_their_line_and_reason(row: str, reason: str) -> None:
    parsed = parse_csv(HEADER + f"md5,{MD5},csam,,,,\n" + row + "\n", Category.CSAM)
    assert len(parsed.accepted) == 1
    [refused] = parsed.refused
    assert refused.line == 3
    assert reason in refused.reason


def test_a_file_without_the_header_is_not_a_bank_csv() -> None:
    with pytest.raises(BankFileError, match="expected the header"):
        parse_csv(f"md5,{MD5},csam,,,,\n", Category.CSAM)
    with pytest.raises(BankFileError, match="empty"):
        parse_csv("", Category.CSAM)


def test_plain_lists_take_their_type_from_the_caller_and_skip_comments() -> None:
    parsed = parse_plain(f"# StopNCII export\n\n{MD5.upper()}\nnot-a-hash\n", HashType.MD5)
    assert [r.hash.value for r in parsed.accepted] == [MD5]
    assert [(r.line, r.reason[:12]) for r in parsed.refused] == [(4, "'not-a-hash'")]


def test_threatexchange_files_map_signal_types_and_refuse_non_media_signals() -> None:
    parsed = parse_threatexchange(f"pdq {PDQ}\nvideo_md5 {MD5}\nurl https://example.org\n")
    assert [(r.hash.hash_type, r.line) for r in parsed.accepted] == [(HashType.PDQ, 1), (HashType.MD5, 2)]
    assert "signal type 'url'" in parsed.refused[0].reason


def test_plain_import_needs_a_type() -> None:
    with pytest.raises(BankFileError, match="needs its hash type"):
        parse_bank_file(MD5, BankFormat.PLAIN, Category.CSAM)


def test_export_round_trips_and_defuses_spreadsheet_formulas() -> None:
    added = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    rows = [ExportRow("md5", MD5, "csam", "ncmec", "=HYPERLINK(1)", added, "+note, with comma")]

    text = "".join(to_csv(rows))

    assert (
        text.splitlines()[1]
        == f"md5,{MD5},csam,ncmec,'=HYPERLINK(1),2026-11-02T10:00:00Z,\"'+note, with comma\""
    )
    [row] = parse_csv(text, Category.CSAM).accepted
    assert (row.hash.source_id, row.hash.note, row.hash.added_at) == (
        "=HYPERLINK(1)",
        "+note, with comma",
        added,
    )
