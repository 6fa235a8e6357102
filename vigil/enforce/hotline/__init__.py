"""Reports to a child-protection hotline: NCMEC's CyberTipline (18 U.S.C. §2258A).

A report is queued by the decision that asks for it, in the decision's own transaction, and only
when a person took that decision (``automated_decision`` is ``not_automated``: a reviewer of the
child-safety queue, which only child-safety roles work) on child sexual abuse material. A machine's
decision never reports on its own: it opens a case, and the reviewer's verdict does. Reports are
queued whether or not a hotline is configured, so nothing is lost while it is not; they are sent
when ``VIGIL_HOTLINE_URL`` is set.

Sending follows the CyberTipline Reporting API, one step at a time, each recorded as soon as the
hotline has answered it (``vigil/store/hotline.py``):

1. ``POST /submit`` with the report XML, built from the decision, its content and the reporter file
   (``VIGIL_HOTLINE_REPORTER_FILE``), validated before it is sent and kept, so that a retry sends the
   same bytes -> the hotline's ``reportId``, recorded at once: a report once submitted is never
   submitted again, a retry resumes from that id;
2. per preserved media file of the content: ``POST /upload`` (the file, decrypted from the evidence
   vault in memory only) -> a ``fileId``, recorded at once; then ``POST /fileinfo`` with its
   ``fileDetails`` (MD5 and SHA-1, SHA-256 and PDQ, ``generativeAi`` when a provenance signal says the
   media was made by AI);
3. ``POST /finish``.

The ``reportId`` and every ``fileId`` go into the audit chain. An answer with a ``responseCode``
other than 0 is an error; XML the hotline calls invalid (4100, 4110) fails the report at once, as
sending it again cannot help; anything else (the hotline down, a timeout) is retried with backoff,
and the report is ``failed`` after the configured number of attempts.

What cannot be made exactly-once: a crash between the hotline's answer and its recording (or an
answer lost to a timeout) repeats that step; for ``/submit`` that means a second report, for
``/fileinfo`` the same description sent again.

The package, one job a module: ``reporter`` (the reporter file), ``report_xml`` (the XML, pure),
``client`` (the HTTP API), ``queueing`` (the decision hook) and ``loop`` (the delivery loop).
"""

from __future__ import annotations

from vigil.enforce.hotline.client import (
    ALREADY_FINISHED,
    MAX_RESPONSE_BYTES,
    PERMANENT_CODES,
    HotlineAnswer,
    HotlineClient,
    HotlineError,
    parse_answer,
)
from vigil.enforce.hotline.loop import HOTLINE_ACTOR, HotlineLoop, hotline_loop
from vigil.enforce.hotline.queueing import queue_hotline_report, reportable
from vigil.enforce.hotline.report_xml import (
    DEFAULT_TEXT_LIMIT,
    FILE_ANNOTATIONS,
    INCIDENT_TYPES,
    REPORT_ANNOTATIONS,
    REPORT_SECTIONS,
    SCHEMA_LOCATION,
    TEXT_LIMITS,
    XSI,
    FileFacts,
    HotlineReportInvalid,
    ReportFacts,
    build_file_details,
    build_report,
    validate_file_details,
    validate_report,
    xml_text,
)
from vigil.enforce.hotline.reporter import (
    MAX_REPORTER_BYTES,
    HotlineConfigError,
    HotlineReporter,
    Person,
    load_reporter,
)

__all__ = [
    "ALREADY_FINISHED",
    "DEFAULT_TEXT_LIMIT",
    "FILE_ANNOTATIONS",
    "HOTLINE_ACTOR",
    "INCIDENT_TYPES",
    "MAX_REPORTER_BYTES",
    "MAX_RESPONSE_BYTES",
    "PERMANENT_CODES",
    "REPORT_ANNOTATIONS",
    "REPORT_SECTIONS",
    "SCHEMA_LOCATION",
    "TEXT_LIMITS",
    "XSI",
    "FileFacts",
    "HotlineAnswer",
    "HotlineClient",
    "HotlineConfigError",
    "HotlineError",
    "HotlineLoop",
    "HotlineReportInvalid",
    "HotlineReporter",
    "Person",
    "ReportFacts",
    "build_file_details",
    "build_report",
    "hotline_loop",
    "load_reporter",
    "parse_answer",
    "queue_hotline_report",
    "reportable",
    "validate_file_details",
    "validate_report",
    "xml_text",
]
