"""The CyberTipline Reporting API over HTTPS: one method per step, each answer parsed and checked."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import httpx

from vigil.enforce.egress import EgressPolicy, PinnedTransport

MAX_RESPONSE_BYTES = 64 * 1024
# Responses that say the XML itself is wrong: sending it again cannot help.
PERMANENT_CODES = frozenset({4100, 4110})
ALREADY_FINISHED = 5102


class HotlineError(Exception):
    """The hotline refused a step or could not be reached; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, code: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class HotlineAnswer:
    code: int
    description: str
    report_id: str | None
    file_id: str | None


def parse_answer(body: bytes) -> HotlineAnswer:
    """A CyberTipline response (``<reportResponse>`` with ``responseCode`` ...); raises ValueError."""
    if len(body) > MAX_RESPONSE_BYTES:
        raise ValueError(f"a response of {len(body)} bytes is not a CyberTipline answer")
    # the configured hotline's answer, bounded above; expat refuses entity-expansion bombs, and
    # ElementTree never fetches external entities
    root = ET.fromstring(body)  # noqa: S314
    code = root.findtext(".//responseCode")
    if code is None or not code.strip().lstrip("-").isdigit():
        raise ValueError("the response has no numeric responseCode")
    return HotlineAnswer(
        int(code),
        (root.findtext(".//responseDescription") or "").strip()[:500],
        (root.findtext(".//reportId") or "").strip() or None,
        (root.findtext(".//fileId") or "").strip() or None,
    )


class HotlineClient:
    """The CyberTipline Reporting API over HTTPS with basic authentication."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout_seconds: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        egress: EgressPolicy | None = None,
    ) -> None:
        """Requests go only where ``egress`` allows (loopback only when not given), unless a
        ``transport`` is given instead."""
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            auth=httpx.BasicAuth(username, password),
            timeout=timeout_seconds,
            follow_redirects=False,
            transport=transport or PinnedTransport(egress or EgressPolicy()),
            headers={"User-Agent": "Vigil-Hotline/1"},
        )

    def _post(self, step: str, **request: Any) -> HotlineAnswer:
        try:
            response = self._client.post(step, **request)
        except httpx.HTTPError as exc:
            # the exception's own text can carry the URL; the type and the step say enough
            raise HotlineError(
                f"POST /{step}: the hotline could not be reached ({type(exc).__name__})"
            ) from None
        try:
            answer: HotlineAnswer | None = parse_answer(response.content)
        except (ValueError, ET.ParseError):
            answer = None
        if answer is None or not response.is_success:
            code = f", responseCode {answer.code} {answer.description!r}" if answer is not None else ""
            raise HotlineError(
                f"POST /{step}: HTTP {response.status_code}{code}",
                answer.code if answer is not None else None,
                permanent=answer is not None and answer.code in PERMANENT_CODES,
            )
        if answer.code != 0 and not (step == "finish" and answer.code == ALREADY_FINISHED):
            raise HotlineError(
                f"POST /{step}: responseCode {answer.code} {answer.description!r}",
                answer.code,
                permanent=answer.code in PERMANENT_CODES,
            )
        return answer

    def submit(self, report_xml: str) -> str:
        """Open a report; returns the hotline's ``reportId``."""
        answer = self._post(
            "submit", content=report_xml.encode(), headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        if not answer.report_id:
            raise HotlineError("POST /submit: the answer has no reportId")
        return answer.report_id

    def upload(self, report_id: str, filename: str, data: bytes, mime_type: str) -> str:
        """Attach one file to a report; returns its ``fileId``."""
        answer = self._post("upload", data={"id": report_id}, files={"file": (filename, data, mime_type)})
        if not answer.file_id:
            raise HotlineError("POST /upload: the answer has no fileId")
        return answer.file_id

    def file_info(self, details_xml: str) -> None:
        self._post(
            "fileinfo", content=details_xml.encode(), headers={"Content-Type": "text/xml; charset=utf-8"}
        )

    def finish(self, report_id: str) -> None:
        self._post("finish", data={"id": report_id})

    def close(self) -> None:
        self._client.close()
