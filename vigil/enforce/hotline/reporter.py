"""The reporter file: who reports to the hotline and how the platform is named, read from
``VIGIL_HOTLINE_REPORTER_FILE`` and checked in full when ``vigil serve`` starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vigil.domain.values import Email, HttpsUrl, Line, Lines, Phone

MAX_REPORTER_BYTES = 64 * 1024


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Person(_Section):
    first_name: Line
    last_name: Line
    email: Email
    phone: Phone | None = None


class HotlineReporter(_Section):
    """Who reports (the CyberTipline's ``reporter`` section) and how the platform is named.

    Read from the YAML file ``VIGIL_HOTLINE_REPORTER_FILE`` names; checked when ``vigil serve`` starts.
    """

    service: Line = Field(description="the platform's service, as the hotline should name it (espService)")
    reporting_person: Person
    contact_person: Person | None = Field(default=None, description="whom law enforcement contacts")
    company_template: Lines | None = Field(
        default=None, description="standing text for every report: legal process, retention, 24-hour phone"
    )
    terms_of_service: Lines | None = Field(
        default=None, description="the terms the content broke, or their URL"
    )
    legal_url: HttpsUrl | None = None
    content_url: str | None = Field(
        default=None,
        max_length=500,
        description="the public address of a content item, with {content_id} where its id goes",
    )

    @field_validator("content_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("https://") or "{content_id}" not in value):
            raise ValueError("must be an https:// address with {content_id} where the item's id goes")
        return value


class HotlineConfigError(ValueError):
    """A reporter file (or hotline setting) that cannot be used; says where and why on one line."""


def load_reporter(path: str | Path) -> HotlineReporter:
    """The reporter file at ``path``, checked in full."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise HotlineConfigError(f"hotline reporter file {path}: cannot read: {reason}") from None
    if len(text.encode()) > MAX_REPORTER_BYTES:
        raise HotlineConfigError(f"hotline reporter file {path}: larger than {MAX_REPORTER_BYTES} bytes")
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise HotlineConfigError(f"hotline reporter file {path}{where}: not valid YAML") from None
    if not isinstance(data, dict):
        keys = ", ".join(HotlineReporter.model_fields)
        raise HotlineConfigError(f"hotline reporter file {path}: expected the keys {keys}")
    try:
        return HotlineReporter.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e.get('ctx', {}).get('error', e['msg'])}"
            for e in exc.errors()
        )
        raise HotlineConfigError(f"hotline reporter file {path}: {problems}") from None
