"""Statements of reasons over HTTP and on the command line: issued with every restriction, read by
the platform to tell its user, revoked or superseded when a reviewer lifts or changes the
restriction, reported when the DSA database refuses one, and exported in the database's fields."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.cli import run
from tests.api.conftest import Api
from tests.review_fixtures import SCAM
from vigil.domain.ids import utcnow
from vigil.domain.roles import Role
from vigil.review.appeals import APPEAL_WINDOW
from vigil.store import statements as statement_store
from vigil.store.statements import SubmissionResult, SubmissionState
from vigil.transparency.dsa_schema import FIELDS, validate_statement

# a policy acting only outside the EEA, and one holding its restriction until a person decides
OUTSIDE_THE_EEA = """\
id: us-wire-fraud
when: "content.text.contains('vigil-test-us-only')"
category: fraud
ground:
  type: illegal_content
  reference: "18 U.S.C. § 1343"
  explanation: "Wire fraud under United States law."
actions: [geo_restrict]
territorial_scope: [US, CA]
"""
HELD = """\
id: held-spam
when: "content.text.contains('vigil-test-held')"
category: spam
ground:
  type: incompatible_content
  reference: "Terms of Service § 4.7"
  explanation: "Bulk unsolicited content."
actions: [remove]
review: before
"""


def _removed_scam(api: Api, content_id: str = "scam-1", language: str | None = None) -> dict[str, Any]:
    """A phishing kit's screenshot, removed by the default pack's fraud-scam (a reviewer confirms after)."""
    md5 = hashlib.md5(SCAM).hexdigest()
    if api.client.get("/v1/banks/phishing-kits", headers=api.admin).status_code == 404:
        api.client.post("/v1/banks", json={"name": "phishing-kits", "category": "fraud"}, headers=api.admin)
        api.client.post(
            "/v1/banks/phishing-kits/hashes",
            json={"hashes": [{"type": "md5", "value": md5}]},
            headers=api.admin,
        )
    item: dict[str, Any] = {
        "id": content_id,
        "author_id": "user-7",
        "text": "look",
        "media": [{"id": "m", "mime_type": "image/png", "data_base64": base64.b64encode(SCAM).decode()}],
    }
    if language:
        item["language"] = language
    response = api.client.post("/v1/content", json=item, headers=api.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["decision"]["outcome"] == "remove"
    return body


def _post(api: Api, content_id: str, text: str) -> dict[str, Any]:
    response = api.client.post(
        "/v1/content", json={"id": content_id, "author_id": "user-8", "text": text}, headers=api.admin
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _decide(api: Api, queue: str, verdict: dict[str, Any], reviewer: dict[str, str] | None = None) -> str:
    """A reviewer claims the only case of ``queue`` and decides it; returns the new decision's id."""
    reviewer = reviewer or api.as_(api.key(Role.REVIEWER))
    [case] = api.client.get("/v1/cases", params={"queue": queue}, headers=reviewer).json()
    api.client.post(f"/v1/cases/{case['id']}/claim", headers=reviewer)
    decided = api.client.post(f"/v1/cases/{case['id']}/decision", json=verdict, headers=reviewer)
    assert decided.status_code == 200, decided.text
    decision_id: str = decided.json()["decision_id"]
    return decision_id


def _sor(api: Api, decision_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = api.client.get(f"/v1/sor/{decision_id}", headers=headers or api.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _notice(api: Api, decision_id: str, lang: str | None = None) -> dict[str, Any]:
    params = {"lang": lang} if lang else {}
    response = api.client.get(f"/v1/sor/{decision_id}/notice", params=params, headers=api.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_removal_issues_a_valid_statement_that_the_platform_reads_with_its_submission(api: Api) -> None:
    removed = _removed_scam(api)
    platform = api.as_(api.key(Role.PLATFORM))

    found = _sor(api, removed["decision_id"], platform)

    assert (found["decision_id"], found["puid"], found["state"]) == (
        removed["decision_id"],
        removed["decision_id"],
        "in_force",
    )
    statement = found["statement"]
    assert validate_statement(statement) == {}
    assert statement["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert (statement["decision_ground"], statement["incompatible_content_ground"]) == (
        "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "Terms of Service § 4.3 (fraud and scams)",
    )
    assert (statement["category"], statement["content_type"]) == (
        "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE"],
    )
    assert found["submission"]["state"] == "pending"
    events = api.client.get(
        "/v1/audit/events", params={"subject_id": found["statement_id"]}, headers=api.admin
    ).json()
    assert [(e["action"], e["payload"]["decision_id"]) for e in events] == [
        ("statement.issued", removed["decision_id"])
    ]


def test_a_decision_that_restricts_nothing_has_no_statement(api: Api) -> None:
    clean = _post(api, "hello-1", "good morning everyone")

    missing = api.client.get(f"/v1/sor/{clean['decision_id']}", headers=api.admin)
    unknown = api.client.get("/v1/sor/dec_nope", headers=api.admin)

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "no_statement")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.PLATFORM, True),
        (Role.LEGAL, True),
        (Role.SENIOR_LEGAL, True),
        (Role.AUDITOR, True),
        (Role.REVIEWER, False),
        (Role.TRUSTED_FLAGGER, False),
    ],
)
def test_statements_are_read_by_the_platform_legal_staff_and_auditors(
    api: Api, role: Role, allowed: bool
) -> None:
    removed = _removed_scam(api)
    headers = api.as_(api.key(role, "org" if role is Role.TRUSTED_FLAGGER else None))

    paths = [
        f"/v1/sor/{removed['decision_id']}",
        f"/v1/sor/{removed['decision_id']}/notice",
        "/v1/sor/submissions",
    ]

    assert {api.client.get(path, headers=headers).status_code for path in paths} == (
        {200} if allowed else {403}
    )


def test_the_user_is_told_in_their_language_with_six_months_to_complain(api: Api) -> None:
    removed = _removed_scam(api, language="fr")
    issued = datetime.fromisoformat(_sor(api, removed["decision_id"])["created_at"])

    french = _notice(api, removed["decision_id"])  # the content's language
    german = _notice(api, removed["decision_id"], lang="de")
    refused = api.client.get(f"/v1/sor/{removed['decision_id']}/notice?lang=xx", headers=api.admin)

    until = (issued + APPEAL_WINDOW).date().isoformat()
    assert (french["language"], french["parts"]["measures"]) == ("fr", ["Le contenu a été supprimé."])
    assert german["parts"]["measures"] == ["Der Inhalt wurde entfernt."]
    assert [(r["kind"], r.get("until")) for r in german["parts"]["redress"]] == [
        ("internal_complaint", until),
        ("out_of_court_dispute_settlement", None),
        ("court", None),
    ]
    assert f"mindestens bis zum {until}" in german["text"]
    assert "scam-1" in german["parts"]["intro"]
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "unsupported_language")


def test_a_reviewer_lifting_a_removal_revokes_its_statement(api: Api) -> None:
    removed = _removed_scam(api)

    lifted = _decide(api, "general", {"actions": [], "note": "a researcher's write-up"})

    old = _sor(api, removed["decision_id"])
    notice = _notice(api, removed["decision_id"], lang="en")
    assert (old["state"], old["superseded_by"]) == ("revoked", None)
    assert notice["parts"]["state_note"].endswith(
        "this decision was reversed: the restriction has been lifted."
    )
    assert notice["parts"]["redress"] == []
    assert api.client.get(f"/v1/sor/{lifted}", headers=api.admin).json()["error"]["code"] == "no_statement"


def test_confirming_a_removal_keeps_its_statement_and_an_appeal_that_changes_it_supersedes_it(
    api: Api,
) -> None:
    removed = _removed_scam(api)
    first, second = api.as_(api.key(Role.REVIEWER)), api.as_(api.key(Role.REVIEWER))

    confirmed = _decide(api, "general", {"actions": ["remove"], "policy_id": "fraud-scam"}, first)

    same = _sor(api, confirmed)
    assert (same["decision_id"], same["requested_decision_id"], same["state"]) == (
        removed["decision_id"],
        confirmed,
        "in_force",
    )
    filed = api.client.post(
        "/v1/appeals",
        json={"decision_id": confirmed, "appellant": "user-7", "statement": "it is a parody"},
        headers=api.as_(api.key(Role.PLATFORM)),
    )
    assert filed.status_code == 201, filed.text
    demoted = _decide(api, "appeals", {"actions": ["demote"], "policy_id": "fraud-scam"}, second)

    old, new = _sor(api, removed["decision_id"]), _sor(api, demoted)
    assert (old["state"], old["superseded_by"], old["superseded_by_decision_id"]) == (
        "superseded",
        new["statement_id"],
        demoted,
    )
    assert (new["state"], new["statement"]["decision_visibility"]) == (
        "in_force",
        ["DECISION_VISIBILITY_CONTENT_DEMOTED"],
    )
    assert new["statement"]["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert f"(reference {demoted})" in _notice(api, removed["decision_id"], lang="en")["parts"]["state_note"]


def test_a_restriction_held_for_review_has_no_statement_until_a_person_puts_it_in_force(api: Api) -> None:
    assert api.client.post("/v1/policies", json={"source": HELD}, headers=api.admin).status_code == 201
    held = _post(api, "bulk-1", "vigil-test-held buy now")
    assert held["decision"]["held_actions"] == ["remove"]
    assert api.client.get(f"/v1/sor/{held['decision_id']}", headers=api.admin).status_code == 404

    removed = _decide(api, "general", {"actions": ["remove"], "policy_id": "held-spam"})

    statement = _sor(api, removed)["statement"]
    assert (statement["category"], statement["automated_decision"]) == (
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    )


def test_a_restriction_only_outside_the_eea_is_told_to_the_user_but_not_submitted(api: Api) -> None:
    assert (
        api.client.post("/v1/policies", json={"source": OUTSIDE_THE_EEA}, headers=api.admin).status_code
        == 201
    )

    restricted = _post(api, "wire-1", "vigil-test-us-only send the fee")

    found = _sor(api, restricted["decision_id"])
    assert (found["statement"]["territorial_scope"], found["submission"]["state"]) == ([], "not_applicable")
    notice = _notice(api, restricted["decision_id"], lang="es")
    assert notice["parts"]["scope"] == "Esto se aplica solo en estos países: CA, US."


def test_refused_statements_are_reported_with_the_reasons_and_an_admin_sends_them_again(api: Api) -> None:
    removed = _removed_scam(api)
    submission = _sor(api, removed["decision_id"])["submission"]
    reasons = {"category": ["The selected category is invalid."]}
    with api.store.transaction() as session:
        statement_store.record_results(
            session,
            [
                SubmissionResult(
                    submission["id"],
                    submission["statement_id"],
                    SubmissionState.REJECTED,
                    1,
                    "refused",
                    rejection=reasons,
                )
            ],
            "test",
            utcnow(),
        )
    auditor = api.as_(api.key(Role.AUDITOR))

    report = api.client.get("/v1/sor/submissions", params={"state": "rejected"}, headers=auditor).json()
    denied = api.client.post(f"/v1/sor/submissions/{submission['id']}/retry", headers=auditor)
    again = api.client.post(f"/v1/sor/submissions/{submission['id']}/retry", headers=api.admin)

    assert [(r["decision_id"], r["rejection"]) for r in report] == [(removed["decision_id"], reasons)]
    assert denied.status_code == 403
    assert (again.status_code, again.json()["state"], again.json()["attempts"]) == (200, "pending", 0)
    assert api.client.get("/v1/sor/submissions?state=rejected", headers=auditor).json() == []
    assert api.client.post("/v1/sor/submissions/999999/retry", headers=api.admin).status_code == 404
    assert api.client.get("/v1/sor/submissions?state=lost", headers=auditor).status_code == 422


def test_a_submitted_statement_is_not_sent_again(api: Api) -> None:
    removed = _removed_scam(api)
    submission = _sor(api, removed["decision_id"])["submission"]
    with api.store.transaction() as session:
        done = SubmissionResult(
            submission["id"], submission["statement_id"], SubmissionState.SUBMITTED, 1, database_uuid="u-1"
        )
        statement_store.record_results(session, [done], "test", utcnow())

    refused = api.client.post(f"/v1/sor/submissions/{submission['id']}/retry", headers=api.admin)

    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "conflict")
    assert _sor(api, removed["decision_id"])["submission"]["database_uuid"] == "u-1"


# ---- vigil sor export --------------------------------------------------------------------------


def test_the_export_writes_every_statement_as_json_lines_or_csv(
    api: Api, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [_removed_scam(api, f"scam-{n}")["decision_id"] for n in range(3)]
    today = utcnow().date().isoformat()

    code, out, err = run(capsys, "sor", "export")
    lines = [json.loads(line) for line in out.splitlines()]
    assert (code, err) == (0, "")
    assert [s["puid"] for s in lines] == ids
    assert all(validate_statement(s) == {} for s in lines)

    target = database.parent / "statements.csv"
    code, out, err = run(
        capsys, "sor", "export", "--format", "csv", "--from", today, "--to", today, "--output", str(target)
    )
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert (code, out) == (0, "")
    assert rows[0] == list(FIELDS)
    assert [row[FIELDS.index("puid")] for row in rows[1:]] == ids
    assert rows[1][FIELDS.index("territorial_scope")].startswith("AT,BE,BG,")

    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    assert run(capsys, "sor", "export", "--from", tomorrow)[:2] == (0, "")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--from", "2026-13-01"], "--from: '2026-13-01' is not a day (expected YYYY-MM-DD)"),
        (["--to", "20260101"], "--to: '20260101' is not a day (expected YYYY-MM-DD)"),
        (["--from", "2026-02-02", "--to", "2026-02-01"], "--from 2026-02-02 is after --to 2026-02-01"),
        (["--format", "xml"], "xml"),
    ],
)
def test_the_export_refuses_bad_input_in_one_line(
    api: Api, database: Path, capsys: pytest.CaptureFixture[str], args: list[str], complaint: str
) -> None:
    code, out, err = run(capsys, "sor", "export", *args)

    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert complaint in err
