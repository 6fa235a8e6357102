"""The console's queues page tells a newcomer where the work is: a key whose role works no queue (the
admin key `vigil init` prints), or whose queues are empty while others hold cases, is shown which
roles work which queues, read from the queue configuration, and how to make a key of such a role."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api
from tests.console_forms import sign_in_with_key
from tests.review_fixtures import ABUSE, SCAM
from vigil.domain.roles import Role
from vigil.review.queues import QueueConfig

_ROLE_ROW = re.compile(
    r'<tr data-queue="(?P<queue>[a-z0-9_]+)">\s*<td>(?P=queue)</td>\s*<td>(?P<roles>.*?)</td>\s*'
    r"<td>(?P<waiting>yes|no)</td>",
    re.S,
)
NOTHING_IN_YOURS = "No case is waiting in your queues."


@pytest.fixture
def queues_page(api: Api) -> Iterator[Any]:
    """``queues_page(role)``: the queues page (its HTML, white space collapsed) as a fresh key of
    ``role`` sees it after signing in."""
    clients: list[TestClient] = []

    def page(role: Role) -> str:
        http = TestClient(api.client.app)
        clients.append(http)
        sign_in_with_key(http, api.key(role))
        shown = http.get("/console/queues")
        assert shown.status_code == 200, shown.text
        return " ".join(shown.text.split())  # as it reads: the template breaks lines anywhere

    yield page
    for http in clients:
        http.close()


def _configured(api: Api) -> QueueConfig:
    queues: QueueConfig = api.client.app.state.desk.queues  # type: ignore[attr-defined]
    return queues


def _role_rows(page: str) -> dict[str, tuple[list[str], bool]]:
    """The hint's table: queue -> (the roles shown for it, whether cases wait in it)."""
    return {
        row["queue"]: (re.findall(r"<code>([a-z_]+)</code>", row["roles"]), row["waiting"] == "yes")
        for row in _ROLE_ROW.finditer(page)
    }


def _submit_matching(api: Api, bank: str, category: str, data: bytes, content_id: str) -> None:
    api.client.post("/v1/banks", json={"name": bank, "category": category}, headers=api.admin)
    md5 = hashlib.md5(data).hexdigest()
    api.client.post(
        f"/v1/banks/{bank}/hashes", json={"hashes": [{"type": "md5", "value": md5}]}, headers=api.admin
    )
    item = {
        "id": content_id,
        "author_id": "user-7",
        "text": "look",
        "media": [{"id": "m", "data_base64": base64.b64encode(data).decode()}],
    }
    response = api.client.post("/v1/content", json=item, headers=api.admin)
    assert response.json()["decision"]["review_needed"] is True, response.text


def test_an_admin_key_is_told_which_roles_work_which_queues_and_how_to_make_a_reviewer_key(
    api: Api, queues_page: Any
) -> None:
    quiet = queues_page(Role.ADMIN)
    assert "works no review queue" in quiet
    assert "No case is waiting in any queue" in quiet
    assert NOTHING_IN_YOURS not in quiet  # it would read as if admin had queues, all of them empty

    _submit_matching(api, "phishing-kits", "fraud", SCAM, "scam-1")  # review after acting: general
    page = html.unescape(queues_page(Role.ADMIN))

    assert "works no review queue" in page
    assert "cases are waiting in queues of other roles" in page
    # every configured queue, with the roles the configuration lists, in Role's order
    assert _role_rows(page) == {
        queue.name: ([r.value for r in Role if r in queue.roles], queue.name == "general")
        for queue in _configured(api).queues.values()
    }
    assert _role_rows(page)["child_safety"][0] == ["senior_reviewer", "child_safety_reviewer"]
    assert 'vigil key create --role reviewer --label "who it is for"' in page  # a role of general
    assert '<a href="/docs">' in page
    assert "docs/console.md" in page
    # where cases wait, never what they are
    assert "scam-1" not in page
    assert "phishing-kits" not in page
    assert 'id="queues"' not in page  # no empty table of its own queues


def test_a_reviewer_whose_queues_are_empty_is_shown_only_the_queues_where_cases_wait(
    api: Api, queues_page: Any
) -> None:
    _submit_matching(api, "hotline-csam", "csam", ABUSE, "abuse-1")  # known CSAM: child_safety only

    page = html.unescape(queues_page(Role.REVIEWER))

    assert NOTHING_IN_YOURS in page
    assert "Cases are waiting in queues that your role, <code>reviewer</code>, does not work" in page
    assert _role_rows(page) == {"child_safety": (["senior_reviewer", "child_safety_reviewer"], True)}
    assert "vigil key create --role child_safety_reviewer" in page  # not senior_reviewer: every queue
    assert 'id="queues"' in page  # its own queues are still listed, all empty


def test_no_hint_while_a_role_has_work_or_when_no_case_waits_anywhere(api: Api, queues_page: Any) -> None:
    nothing = queues_page(Role.REVIEWER)
    assert NOTHING_IN_YOURS in nothing
    assert 'id="where-to-go"' not in nothing

    _submit_matching(api, "hotline-csam", "csam", ABUSE, "abuse-1")
    trained = queues_page(Role.CHILD_SAFETY_REVIEWER)
    assert 'id="start" href="/console/queues/child_safety"' in trained
    assert 'id="where-to-go"' not in trained
