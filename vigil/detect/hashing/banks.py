"""Hash-list formats: reading and writing banks (docs/media-matching.md, "Hash lists").

Hash lists arrive from hotlines, industry programmes and victims' own submissions, in whatever
shape their tooling produces. Every row is checked; a refused row is reported with its line number
and why, and the caller decides whether a file with refused rows is imported at all (by default it
is not: a half-imported CSAM list is worse than a refused one, because nobody notices the gap).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from vigil.detect.registry import SIGNAL_TYPES
from vigil.domain.hashes import HashType, InvalidHashError, ListedHash
from vigil.domain.ids import instant_in_utc
from vigil.domain.taxonomy import Category

CSV_HEADER = ("hash_type", "hash_value", "category", "source", "source_id", "added_at", "note")


class BankFormat(StrEnum):
    CSV = "csv"  # Vigil's exchange format
    PLAIN = "plain"  # one hash per line, type given by the caller (NCMEC- and StopNCII-style lists)
    THREATEXCHANGE = (
        "threatexchange"  # "<signal_type> <value>" per line, as threatexchange's file exchange reads
    )


# threatexchange signal type names that Vigil can hold, besides the registered types' own names;
# others (url, trend_query ...) are refused.
_THREATEXCHANGE_TYPES: dict[str, str] = {
    "pdq": HashType.PDQ,
    "md5": HashType.MD5,
    "video_md5": HashType.MD5,
    "photo_md5": HashType.MD5,
    "sha256": HashType.SHA256,
    "vpdq": HashType.VPDQ,
}


@dataclass(frozen=True, slots=True)
class HashRow:
    """One accepted row: where it was in the file, and the hash it lists."""

    line: int
    hash: ListedHash


@dataclass(frozen=True, slots=True)
class RefusedRow:
    line: int
    reason: str


@dataclass(slots=True)
class ParsedFile:
    """Every row of a file, accepted or refused."""

    accepted: list[HashRow] = field(default_factory=list)
    refused: list[RefusedRow] = field(default_factory=list)


class BankFileError(ValueError):
    """A file that cannot be read as the format at all (not a row-level problem)."""


# Spreadsheets execute cells that start with these; hash-list notes are not trusted, so an exported
# cell is prefixed with an apostrophe, and the prefix is taken off again on import.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _unescape(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS) else cell


def _timestamp(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("added_at needs a time zone (e.g. 2026-11-01T00:00:00Z)")
    try:
        return instant_in_utc(parsed)
    except ValueError as exc:
        raise ValueError(f"added_at {exc}") from None


def _bounded(name: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return value


def parse_csv(text: str, bank_category: Category) -> ParsedFile:
    """Read Vigil's bank CSV; rows of another category than the bank's are refused."""
    parsed = ParsedFile()
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise BankFileError("the file is empty; expected the header " + ",".join(CSV_HEADER)) from None
    except csv.Error as exc:
        raise BankFileError(f"not CSV: {exc}") from None
    if tuple(h.strip().lower() for h in header) != CSV_HEADER:
        raise BankFileError(f"line 1: expected the header {','.join(CSV_HEADER)}")
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(CSV_HEADER):
                parsed.refused.append(
                    RefusedRow(line, f"expected {len(CSV_HEADER)} columns, found {len(row)}")
                )
                continue
            hash_type, value, category, source, source_id, added_at, note = (
                _unescape(c.strip()) for c in row
            )
            try:
                kind = SIGNAL_TYPES.parse(hash_type)
                if category and category != bank_category.value:
                    raise ValueError(
                        f"category {category!r} does not match the bank's category {bank_category.value!r}"
                    )
                listed = ListedHash(
                    kind.name,
                    kind.normalise(value),
                    _bounded("source", source, 100),
                    _bounded("source_id", source_id, 200),
                    _timestamp(added_at) if added_at else None,
                    _bounded("note", note, 1000),
                )
                parsed.accepted.append(HashRow(line, listed))
            except ValueError as exc:  # InvalidHashError is a ValueError too
                parsed.refused.append(RefusedRow(line, str(exc)))
    except csv.Error as exc:
        raise BankFileError(f"line {reader.line_num}: not CSV: {exc}") from None
    return parsed


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def parse_plain(text: str, hash_type: str) -> ParsedFile:
    """One hash per line, all of ``hash_type`` (a registered type's name); blank lines and ``#``
    comments are skipped."""
    parsed = ParsedFile()
    kind = SIGNAL_TYPES.get(hash_type)
    for line, value in _lines(text):
        try:
            parsed.accepted.append(HashRow(line, ListedHash(kind.name, kind.normalise(value))))
        except InvalidHashError as exc:
            parsed.refused.append(RefusedRow(line, str(exc)))
    return parsed


def parse_threatexchange(text: str, default_type: str | None = None) -> ParsedFile:
    """Lines of ``<signal_type> <value>`` (or bare values when ``default_type`` is given)."""
    parsed = ParsedFile()
    known = {**{name: name for name in SIGNAL_TYPES.names}, **_THREATEXCHANGE_TYPES}
    for line, content in _lines(text):
        name, _, value = content.partition(" ")
        if not value:
            if default_type is None:
                parsed.refused.append(RefusedRow(line, "no signal type; expected '<signal_type> <value>'"))
                continue
            kind, value = SIGNAL_TYPES.get(default_type), name
        elif name.lower() in known:
            kind = SIGNAL_TYPES.get(known[name.lower()])
        else:
            supported = ", ".join(sorted(known))
            parsed.refused.append(
                RefusedRow(line, f"signal type {name!r} is not a media hash Vigil holds ({supported})")
            )
            continue
        try:
            parsed.accepted.append(HashRow(line, ListedHash(kind.name, kind.normalise(value.strip()))))
        except InvalidHashError as exc:
            parsed.refused.append(RefusedRow(line, str(exc)))
    return parsed


@dataclass(frozen=True, slots=True)
class ExportRow:
    hash_type: str
    value: str
    category: str
    source: str
    source_id: str
    added_at: datetime
    note: str


def to_csv(rows: Iterable[ExportRow]) -> Iterator[str]:
    """Vigil's bank CSV, a line at a time (banks can hold millions of hashes)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            (
                row.hash_type,
                row.value,
                row.category,
                _spreadsheet_safe(row.source),
                _spreadsheet_safe(row.source_id),
                row.added_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                _spreadsheet_safe(row.note),
            )
        )
        yield buffer.getvalue()


def to_threatexchange(rows: Iterable[ExportRow]) -> Iterator[str]:
    """``<signal_type> <value>`` lines, as threatexchange's local file exchange reads them.

    The format carries no metadata: notes, source ids and dates stay behind (use CSV to keep them).
    """
    for row in rows:
        yield f"{row.hash_type} {row.value}\n"


def export_bank(rows: Iterable[ExportRow], fmt: BankFormat) -> Iterator[str]:
    """A bank in ``fmt`` (CSV or threatexchange; a plain list cannot say each hash's type)."""
    if fmt is BankFormat.CSV:
        return to_csv(rows)
    if fmt is BankFormat.THREATEXCHANGE:
        return to_threatexchange(rows)
    raise BankFileError("export writes csv or threatexchange")


def parse_bank_file(
    text: str, fmt: BankFormat, bank_category: Category, hash_type: str | None = None
) -> ParsedFile:
    """Read a hash list in ``fmt``; ``hash_type`` (a registered type's name) is required for plain
    lists."""
    if fmt is BankFormat.CSV:
        return parse_csv(text, bank_category)
    if fmt is BankFormat.PLAIN:
        if hash_type is None:
            raise BankFileError("a plain list needs its hash type (pdq, md5 or sha256)")
        return parse_plain(text, hash_type)
    return parse_threatexchange(text, hash_type)
