"""Appeals on both engines: the six-month window, and one appeal per user and decision."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest

from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import DecisionContext
from vigil.domain.hashes import HashType, ListedHash
from vigil.domain.taxonomy import Category
from vigil.pipeline.admin import Admin
from vigil.pipeline.service import Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.review.appeals import APPEAL_WINDOW, AppealDesk, AppealError
from vigil.store import cases as case_store
from vigil.store.db import Store

KIT = hashlib.md5(b"phishing kit").hexdigest()


def _removed(store: Store, now: datetime) -> str:
    admin = Admin(store, clock=lambda: now)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    admin.create_bank("kits", Category.FRAUD, "internal", 31, "test")
    admin.add_hashes("kits", [ListedHash(HashType.MD5, KIT)], "test")
    item = Content(
        "scam", ContentKind.POST, Audience.PUBLIC, "u", now, media=(MediaHashes("m", None, KIT, None, 10),)
    )
    [outcome] = Pipeline(store, clock=lambda: now).submit([item], DecisionContext(), "platform")
    assert outcome.decision.outcome == "remove"
    return outcome.decision_id


def test_appeals_are_taken_for_six_months_and_refused_after(store: Store, now: datetime) -> None:
    decision_id = _removed(store, now)
    pipeline = Pipeline(store)
    late = AppealDesk(pipeline, clock=lambda: now + APPEAL_WINDOW + timedelta(days=1))
    in_time = AppealDesk(pipeline, clock=lambda: now + APPEAL_WINDOW - timedelta(days=1))

    with pytest.raises(AppealError, match="appeals are accepted for six months"):
        late.file(decision_id, "u", "too late", "platform")
    appeal, new = in_time.file(decision_id, "u", "please look again", "platform")
    again, new_again = in_time.file(decision_id, "u", "please look again", "platform")

    assert (new, new_again, again.id) == (True, False, appeal.id)
    with store.transaction() as session:
        # the removal asked for review after acting: its open case now carries the appeal
        case = case_store.get_case(session, appeal.case_id)
    assert case is not None
    assert (case.reason.value, case.decision_id, case.queue) == ("appeal", decision_id, "appeals")
