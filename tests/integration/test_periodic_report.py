"""The periodic transparency report on both engines: five days of moderation played through the real
desks against a fake clock (content matched by banks, notices from a user and a trusted flagger,
reviewers' verdicts, appeals, authority orders, a flagger suspended), reported for the three days in
the middle by ``vigil report periodic``; every figure equals what this test counts from the
scenario, the CSV files parse, the HTML is escaped, and bad input is one line and exit status 2."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markupsafe import escape

from tests.api.cli import run
from tests.order_fixtures import SigningAuthority, order_to_act, removal_order
from vigil.api.routes.orders import OrderIn
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import Action, DecisionContext
from vigil.domain.hashes import HashType, ListedHash
from vigil.domain.orders import OrderState, OrderType, RefusalGround
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.intake.authorities import AuthorityRegistry, NewAuthority
from vigil.intake.flaggers import NewFlagger
from vigil.intake.notices import NoticeDesk, NoticeRequest, Notifier, Reporter
from vigil.intake.orders import Caller, OrderDesk
from vigil.intake.safeguards import load_legal_config
from vigil.pipeline.admin import Admin
from vigil.pipeline.service import Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.review.appeals import AppealDesk
from vigil.review.cases import CaseDesk, Reviewer, Verdict
from vigil.store import content as content_store
from vigil.store import daily as counter_store
from vigil.store.daily import Increment
from vigil.store.db import Store

KIT = hashlib.md5(b"a phishing kit sold to scammers").hexdigest()
ABUSE = hashlib.md5(b"bytes of known abuse material").hexdigest()
PLATFORM = Notifier("key:platform", Role.PLATFORM, None)
FLAGGER = Notifier("key:flagger", Role.TRUSTED_FLAGGER, "ngo-watch")
FIRST_REVIEWER = Reviewer("key:reviewer-1", Role.SENIOR_REVIEWER)
SECOND_REVIEWER = Reviewer("key:reviewer-2", Role.SENIOR_REVIEWER)
LEGAL = Caller("key:senior-legal", Role.SENIOR_LEGAL, None)
PROPAGANDA = "Watch the new video from the brothers."
PROTEST = "Our reporter is live from the protest on the square."
# personal data the scenario carries: none of it may reach a file of the report
PRIVATE = ("Ana Privatperson", "ana.private@example.org", "author-", "channel-private", "Trusted Watch NGO")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = at(1, 0)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desks:
    clock: Clock
    pipeline: Pipeline
    notices: NoticeDesk
    cases: CaseDesk
    appeals: AppealDesk
    orders: OrderDesk

    def post(self, content_id: str, text: str = "hello", md5: str | None = None) -> str:
        """Publish an item (its own author and channel); returns the id of the decision on it."""
        media = (MediaHashes("m", None, md5, None, 10),) if md5 else ()
        item = Content(
            content_id,
            ContentKind.POST,
            Audience.PUBLIC,
            f"author-{content_id}",
            self.clock.now,
            channel_id=f"channel-private-{content_id}",  # strikes would add up on a shared channel
            text=text,
            media=media,
        )
        [outcome] = self.pipeline.submit([item], DecisionContext(), "platform")
        return outcome.decision_id

    def notice(self, content_id: str, category: Category, notifier: Notifier = PLATFORM) -> str | None:
        reporter = Reporter("Ana Privatperson", "ana.private@example.org") if notifier is PLATFORM else None
        request = NoticeRequest(
            content_id,
            None,
            category,
            None,
            "This content breaks the law, see the post.",
            reporter,
            True,
            None,
        )
        return self.notices.receive(request, notifier).case_id

    def decide(self, case_id: str, reviewer: Reviewer, actions: set[Action], policy: str | None) -> str:
        self.cases.claim(case_id, reviewer)
        decision_id, _ = self.cases.decide(case_id, reviewer, Verdict(frozenset(actions), policy))
        return decision_id

    def appeal(self, decision_id: str) -> str:
        appeal, _ = self.appeals.file(decision_id, "the author", "please look again", "platform")
        return appeal.case_id

    def order(self, authority: SigningAuthority, document: dict[str, object]) -> str:
        body = json.dumps(document).encode()
        caller = Caller(f"key:{authority.id}", Role.AUTHORITY, authority.id)
        view = self.orders.receive(
            caller, body, authority.sign(body), OrderIn.model_validate_json(body).document()
        )
        return view.id


def _authority(store: Store, clock: Clock, authority: SigningAuthority) -> SigningAuthority:
    competence = frozenset(OrderType(c) for c in authority.competence)
    new = NewAuthority(
        authority.id, authority.name, authority.country, competence, "o@x.example", "", authority.public_key
    )
    AuthorityRegistry(store, clock).register(new, "test")
    return authority


def _play(store: Store) -> None:
    """Five days; the report covers 2 to 4 March. What each step adds to it is noted beside it."""
    clock = Clock()
    admin = Admin(store, clock=clock)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    admin.create_bank("kits", Category.FRAUD, "internal", 31, "test")
    admin.add_hashes("kits", [ListedHash(HashType.MD5, KIT)], "test")
    admin.create_bank("known-abuse", Category.CSAM, "hotline", 31, "test")
    admin.add_hashes("known-abuse", [ListedHash(HashType.MD5, ABUSE)], "test")
    pipeline = Pipeline(store, clock=clock)
    desks = Desks(
        clock,
        pipeline,
        NoticeDesk(pipeline, clock),
        CaseDesk(pipeline, clock),
        AppealDesk(pipeline, clock),
        OrderDesk(pipeline, load_legal_config(), frozenset({"en", "fr"}), clock),
    )
    paris = _authority(store, clock, SigningAuthority("fr-ocrv", "FR", ["tco_removal", "dsa_art9"], "OCRV"))
    berlin = _authority(store, clock, SigningAuthority("de-bka", "DE", ["tco_removal"], "BKA"))
    desks.notices.flaggers.register(
        NewFlagger("ngo-watch", "Trusted Watch NGO", "DE", (Category.FRAUD,), "BNetzA", "ngo@x.example"),
        "test",
    )

    # 1 March, before the period: counts nowhere in the report
    clock.now = at(1, 12)
    desks.post("scam-0", md5=KIT)
    desks.post("quiet-0")
    desks.notice("quiet-0", Category.HATE_SPEECH)

    # 2 March
    clock.now = at(2, 8)
    scam_1 = desks.post("scam-1", md5=KIT)  # own initiative: fraud, remove, fully automated
    scam_2 = desks.post("scam-2", md5=KIT)  # the same
    desks.post("abuse-1", md5=ABUSE)  # own initiative: csam, remove, and the account suspended
    desks.post("quiet-1")
    clock.now = at(2, 9)
    hate_case = desks.notice("quiet-1", Category.HATE_SPEECH)  # a user's notice
    assert hate_case is not None
    clock.now = at(2, 11)
    # actioned on the basis of law (the policy's ground is illegal hate speech), after 2 hours
    hate_removal = desks.decide(hate_case, FIRST_REVIEWER, {Action.REMOVE}, "hate-speech-suspected")
    clock.now = at(2, 12)
    # on content already removed: answered at once by the automated removal, on the terms' basis
    assert desks.notice("scam-1", Category.FRAUD) is None
    clock.now = at(2, 15)
    scam_1_appeal = desks.appeal(scam_1)

    # 3 March
    clock.now = at(3, 8)
    desks.post("quiet-2")
    flagged = desks.notice("quiet-2", Category.FRAUD, FLAGGER)  # a trusted flagger's notice
    assert flagged is not None
    clock.now = at(3, 9)
    desks.decide(flagged, FIRST_REVIEWER, set(), None)  # not actioned, after an hour
    clock.now = at(3, 9, 59)
    desks.post("propaganda-1", PROPAGANDA)
    clock.now = at(3, 10)
    # a removal order from Paris, executed at once; the authority is answered 6 minutes later
    tco = desks.order(paris, removal_order(paris, "TCO-1", "propaganda-1", issued_at=at(3, 9, 55)))
    clock.now = at(3, 10, 6)
    desks.orders.watch()
    clock.now = at(3, 11)
    desks.post("quiet-3")
    act = order_to_act(paris, "ART9-1", "quiet-3", ["FR"])
    act["issued_at"] = at(3, 10, 50).isoformat()
    art9 = desks.order(paris, act)
    clock.now = at(3, 11, 30)
    # refused for fundamental rights, and answered so, half an hour after receipt
    desks.orders.refuse(art9, LEGAL, RefusalGround.FUNDAMENTAL_RIGHTS, "satire")
    clock.now = at(3, 15)
    # the complaint against the automated removal of scam-1 overturns it, a day after it came
    desks.decide(scam_1_appeal, SECOND_REVIEWER, set(), None)
    clock.now = at(3, 16)
    hate_appeal = desks.appeal(hate_removal)
    clock.now = at(3, 18)
    # the complaint against the reviewer's removal is upheld by another reviewer, after 2 hours
    desks.decide(hate_appeal, SECOND_REVIEWER, {Action.REMOVE}, "hate-speech-suspected")

    # 4 March
    clock.now = at(4, 9)
    desks.notices.flaggers.suspend("ngo-watch", "manifestly unfounded notices", "test")
    clock.now = at(4, 22)
    desks.post("quiet-4")
    late_notice = desks.notice("quiet-4", Category.HATE_SPEECH)  # still pending when the period ends
    assert late_notice is not None
    clock.now = at(4, 23)
    scam_2_appeal = desks.appeal(scam_2)  # the same
    clock.now = at(4, 23, 30)
    desks.post("protest-1", PROTEST)
    held = desks.order(berlin, removal_order(berlin, "TCO-DE-1", "protest-1", issued_at=at(4, 23, 25)))

    # 5 March, after the period: what happens now changes nothing in it
    clock.now = at(5, 0, 20)
    assert desks.orders.execute(held, LEGAL, None, "reviewed").state is OrderState.EXECUTED
    clock.now = at(5, 1)
    desks.decide(late_notice, FIRST_REVIEWER, {Action.REMOVE}, "hate-speech-suspected")
    clock.now = at(5, 2)
    desks.decide(scam_2_appeal, SECOND_REVIEWER, {Action.REMOVE}, "fraud-scam")
    clock.now = at(5, 10)
    desks.post("scam-3", md5=KIT)
    with store.transaction() as session:
        # the scenario went as told: the order from Paris was executed by the machine
        assert content_store.current_decisions(session, ["propaganda-1"])["propaganda-1"].decision.restricts
    assert tco


# --- reading the files back -----------------------------------------------------------------------


@dataclass
class Csv:
    rows: list[dict[str, str]]

    def value(self, figure: str, **dims: str) -> str | None:
        """The value on the row of ``figure`` broken down by exactly ``dims`` (other columns empty)."""
        found = [row for row in self.rows if row["figure"] == figure and self._exact(row, dims)]
        assert len(found) <= 1
        return found[0]["value"] if found else None

    def total(self, figure: str, **dims: str) -> int:
        return sum(
            int(row["value"])
            for row in self.rows
            if row["figure"] == figure and all(row[k] == v for k, v in dims.items())
        )

    @staticmethod
    def _exact(row: dict[str, str], dims: dict[str, str]) -> bool:
        columns = [c for c in row if c not in ("period_from", "period_to", "figure", "value")]
        return all(row[c] == dims.get(c, "") for c in columns)


def _read(folder: Path, name: str, columns: tuple[str, ...]) -> Csv:
    with (folder / name).open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == ("period_from", "period_to", "figure", *columns, "value")
        rows = list(reader)
    assert all((r["period_from"], r["period_to"]) == ("2026-03-02", "2026-03-04") for r in rows)
    return Csv(rows)


@pytest.fixture
def cli(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """``vigil`` run in-process uses the test's store."""
    monkeypatch.setenv("VIGIL_DATABASE_URL", store.url)


def test_the_report_of_a_period_counts_what_happened_in_it(
    store: Store, cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _play(store)
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("country,count\nDE,1200000\nFR,800000\nEU,1900000\n")
    out = tmp_path / "report" / "2026-03"

    code, printed, err = run(
        capsys,
        "report",
        "periodic",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-04",
        "--output",
        str(out),
        "--recipients",
        str(recipients),
    )

    assert (code, err) == (0, "")
    names = [
        "1_orders.csv",
        "2_notices.csv",
        "3_own_initiative.csv",
        "4_complaints.csv",
        "5_automated_means.csv",
        "6_suspensions.csv",
        "7_recipients.csv",
        "report.html",
    ]
    assert sorted(p.name for p in out.iterdir()) == names
    for name in names:
        assert str(out / name) in printed

    # 1. orders: Paris's two and Berlin's, which was executed only after the period ended
    orders = _read(out, "1_orders.csv", ("country", "type", "category", "ground"))
    assert orders.total("received") == 3
    assert orders.value("received", country="FR", type="tco_removal", category="terrorism") == "1"
    assert orders.value("received", country="FR", type="dsa_art9", category="hate_speech") == "1"
    assert orders.value("received", country="DE", type="tco_removal", category="terrorism") == "1"
    assert orders.value("executed", country="FR", type="tco_removal", category="terrorism") == "1"
    assert orders.total("executed") == 1
    assert orders.total("partially_executed") == 0
    assert (
        orders.value(
            "refused", country="FR", type="dsa_art9", category="hate_speech", ground="fundamental_rights"
        )
        == "1"
    )
    assert orders.value("pending", country="DE", type="tco_removal", category="terrorism") == "1"
    assert orders.value("median_seconds_to_confirm_receipt") == "0"
    assert orders.value("median_seconds_to_give_effect") == "0"  # the removal order, at once
    assert orders.value("median_seconds_to_answer") == "360"  # of 360 and 1,800 s, the lower middle
    assert orders.value("median_seconds_to_answer", type="dsa_art9") == "1800"
    assert orders.value("median_seconds_to_answer", country="DE", type="tco_removal") is None

    # 2. notices received from 2 to 4 March (not the one of 1 March)
    notices = _read(out, "2_notices.csv", ("category", "source", "basis"))
    assert notices.total("received") == 4
    assert notices.total("received", source="trusted_flagger") == 1
    assert notices.value("actioned", category="hate_speech", source="notice", basis="law") == "1"
    assert notices.value("actioned", category="fraud", source="notice", basis="terms") == "1"
    assert notices.value("not_actioned", category="fraud", source="trusted_flagger") == "1"
    assert notices.value("pending", category="hate_speech", source="notice") == "1"
    assert notices.total("processed_by_automated_means") == 1
    assert notices.value("processed_by_automated_means", category="fraud", source="notice") == "1"
    assert notices.value("median_seconds_to_decision") == "3600"  # of 0, 3,600 and 7,200 s
    assert notices.value("median_seconds_to_decision", category="hate_speech") == "7200"
    assert notices.value("median_seconds_to_decision", source="trusted_flagger") == "3600"

    # 3. own initiative: the three bank matches of 2 March, not those of 1 and 5 March
    own = _read(
        out, "3_own_initiative.csv", ("category", "restriction_type", "action", "detection", "automated")
    )
    visibility = {"restriction_type": "visibility", "action": "remove", "detection": "automated"}
    assert own.value("measures", category="fraud", automated="fully", **visibility) == "2"
    assert own.value("measures", category="csam", automated="fully", **visibility) == "1"
    assert own.total("measures") == 3  # the notice's, the order's and the reviewers' are elsewhere
    account = {"restriction_type": "account", "action": "suspend_account", "detection": "automated"}
    assert own.value("account_measures", category="csam", automated="fully", **account) == "1"

    # 4. complaints received from 2 to 4 March
    complaints = _read(out, "4_complaints.csv", ("category", "basis", "automated", "outcome"))
    assert complaints.total("received") == 3
    fraud = {"category": "fraud", "basis": "terms", "automated": "fully"}
    hate = {"category": "hate_speech", "basis": "law", "automated": "not_automated"}
    assert complaints.value("received", **fraud) == "2"
    assert complaints.value("decided", **fraud, outcome="overturned") == "1"
    assert complaints.value("decided", **hate, outcome="upheld") == "1"
    assert complaints.value("reversed", **fraud) == "1"
    assert complaints.total("reversed") == 1
    assert complaints.value("pending", **fraud) == "1"
    assert complaints.value("median_seconds_to_decision") == "7200"  # of 7,200 and 86,400 s
    assert complaints.value("median_seconds_to_decision", category="fraud") == "86400"
    assert complaints.value("out_of_court_disputes") == "not_known"

    # 5. automated means: five restrictive decisions, four fully automated (the order's too)
    automated = _read(out, "5_automated_means.csv", ("category", "automated"))
    assert automated.value("restrictive_decisions", category="fraud", automated="fully") == "2"
    assert automated.value("restrictive_decisions", category="csam", automated="fully") == "1"
    assert automated.value("restrictive_decisions", category="terrorism", automated="fully") == "1"
    assert automated.value("restrictive_decisions", category="hate_speech", automated="not_automated") == "1"
    assert automated.total("restrictive_decisions") == 5
    assert automated.value("fully_automated_share") == "0.8000"
    assert automated.value("fully_automated_share", category="hate_speech") == "0.0000"
    assert automated.value("overturned_on_complaint", category="fraud", automated="fully") == "1"
    assert automated.value("overturn_rate_on_complaint", category="fraud", automated="fully") == "1.0000"
    assert (
        automated.value("overturn_rate_on_complaint", category="hate_speech", automated="not_automated")
        == "0.0000"
    )
    assert automated.value("restrictions_lifted", category="fraud", automated="not_automated") == "1"
    assert automated.value("lifted_by_a_person_rate") == "0.2000"
    assert automated.value("lifted_by_a_person_rate", category="fraud") == "0.5000"

    # 6. suspensions
    suspensions = _read(out, "6_suspensions.csv", ("category", "source", "automated"))
    assert (
        suspensions.value("accounts_suspended", category="csam", source="voluntary", automated="fully") == "1"
    )
    assert suspensions.total("accounts_suspended") == 1
    assert suspensions.total("channels_banned") == 0
    assert suspensions.value("trusted_flaggers_suspended") == "1"
    assert suspensions.value("notifiers_suspended_for_unfounded_notices") == "not_known"

    # 7. recipients, as given
    given = _read(out, "7_recipients.csv", ("country",))
    assert given.value("average_monthly_active_recipients", country="DE") == "1200000"
    assert given.value("average_monthly_active_recipients") == "1900000"  # the Union: all countries
    assert len(given.rows) == 3

    # the readable summary, and no personal data anywhere
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Transparency report of Example Social: 2026-03-02 to 2026-03-04" in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') >= 8
    assert "France (FR): 2" in html  # the orders by member state, in words
    assert "<dd>1,900,000</dd>" in html  # the Union's recipients, not the sum of the rows
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    for name in names:
        text = (out / name).read_text(encoding="utf-8")
        for private in (*PRIVATE, "scam-1", "quiet-1", "propaganda-1", "TCO-1", "OCRV"):
            assert private not in text, (name, private)


def test_without_recipients_the_report_says_vigil_does_not_know_them(
    store: Store, cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "report", "periodic", "--from", "2026-03-02", "--to", "2026-03-04", "--output", str(tmp_path)
    )

    assert (code, err) == (0, "")
    recipients = _read(tmp_path, "7_recipients.csv", ("country",))
    assert recipients.value("average_monthly_active_recipients") == "not_known"
    assert "not known to Vigil" in (tmp_path / "report.html").read_text(encoding="utf-8")
    orders = _read(tmp_path, "1_orders.csv", ("country", "type", "category", "ground"))
    assert orders.rows == []  # a period without orders: no rows, and no error


HOSTILE = "<img src=x onerror=alert(1)>"


def test_labels_from_the_data_are_escaped_in_the_html_and_kept_as_text_in_the_csv(
    store: Store, cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with store.transaction() as session:
        counter_store.add(
            session,
            "2026-03-03",
            [
                Increment("restrictive", HOSTILE, "remove", "voluntary", "", "fully", 3),
                Increment("restrictive", "=HYPERLINK(1)", "<b>", "voluntary", "", "fully", 2),
            ],
        )

    code, _, err = run(
        capsys, "report", "periodic", "--from", "2026-03-02", "--to", "2026-03-04", "--output", str(tmp_path)
    )

    assert (code, err) == (0, "")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert HOSTILE not in html
    assert "<b>" not in html
    assert f"{escape(HOSTILE)}: 3" in html
    own = _read(
        tmp_path, "3_own_initiative.csv", ("category", "restriction_type", "action", "detection", "automated")
    )
    assert (
        own.value(
            "measures",
            category=HOSTILE,
            restriction_type="visibility",
            action="remove",
            detection="automated",
            automated="fully",
        )
        == "3"
    )
    # a label a spreadsheet would run as a formula is written as text
    assert own.total("measures", category="'=HYPERLINK(1)") == 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from", "2026-02-30", "--to", "2026-03-04"], "a day is a calendar date written YYYY-MM-DD"),
        (["--from", "2026-03-05", "--to", "2026-03-04"], "starts (2026-03-05) after it ends (2026-03-04)"),
        (["--from", "2025-01-01", "--to", "2026-03-04"], "a period is at most 400 days, not 428"),
    ],
)
def test_bad_periods_are_refused_on_one_line(
    store: Store, cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    code, printed, err = run(capsys, "report", "periodic", *args, "--output", str(tmp_path / "out"))

    assert code == 2
    assert printed == ""
    assert says in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()  # nothing written for a bad period


def test_an_unwritable_output_and_a_bad_recipients_file_are_refused_on_one_line(
    store: Store, cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    period = ["--from", "2026-03-02", "--to", "2026-03-04"]

    code, _, err = run(capsys, "report", "periodic", *period, "--output", str(a_file / "report"))
    assert code == 2
    assert err.startswith("vigil: --output: cannot create the folder")
    assert err.count("\n") == 1

    for content, says in (
        ("country,count\nXX,10\n", "line 2: 'XX' is not an EU member state"),
        ("DE,10\nDE,11\n", "line 2: DE is given twice"),
        ("DE,ten\n", "line 1: the count is a whole number of people, not 'ten'"),
        ("DE;10\n", "line 1: expected two columns"),
        ("", "no rows"),
    ):
        recipients = tmp_path / "recipients.csv"
        recipients.write_text(content)
        code, _, err = run(
            capsys,
            "report",
            "periodic",
            *period,
            "--output",
            str(tmp_path / "out"),
            "--recipients",
            str(recipients),
        )
        assert code == 2, content
        assert says in err
        assert err.count("\n") == 1

    code, _, err = run(
        capsys,
        "report",
        "periodic",
        *period,
        "--output",
        str(tmp_path),
        "--recipients",
        str(tmp_path / "none.csv"),
    )
    assert (code, err.startswith("vigil: --recipients: cannot read")) == (2, True)
