"""Every operation of the HTTP API under generated input, against `vigil serve`.

Schemathesis reads the OpenAPI document the server publishes and generates requests for each
operation: its coverage phase (boundary values, missing and wrong-typed fields, values just outside
each constraint, unexpected methods) and Hypothesis's valid and invalid examples, some aimed at
objects that exist. Each operation is first called with every role's key and with none; what follows
goes, in turn, to the keys it admits, so the input reaches the handlers rather than stopping at the
door.

What must hold whatever arrives: no 5xx; every 4xx of the JSON API in the error shape
``{"error": {"code", "message"}}``; the server still up at the end; and the audit chain intact. The
run is deterministic (coverage cases in a fixed order, Hypothesis derandomized), so a finding is
reproduced by running the test again; each finding is reported with a curl command.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.config import GenerationConfig

from tests.integration.live import VIGIL, Vigil
from tests.order_fixtures import SigningAuthority, removal_order
from vigil.domain.roles import BOUND_ROLES, Role
from vigil.intake.authorities import SIGNATURE_HEADER

pytestmark = pytest.mark.e2e

# Hypothesis examples per operation and generation mode, once with generated path parameters and
# once aimed at objects the test created. With the coverage phase and the odd values that makes about
# 8,600 requests, and the whole test about 60 s on two shared cores (December 2026: 10 examples, 55 s;
# 20 examples, 85 s, finding nothing more).
EXAMPLES = 10
MIN_REQUESTS = 2000
NO_KEY = "(no key)"
# the refusals of a key that may not call an operation at all, before its input is read
_AUTH_REFUSALS = frozenset({"unauthenticated", "invalid_api_key", "forbidden"})
_MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@dataclass
class Finding:
    """A response that breaks the invariant, with what reproduces it."""

    operation: str
    caller: str
    status: int | None
    problem: str
    curl: str

    def __str__(self) -> str:
        curl = self.curl if len(self.curl) <= 600 else f"{self.curl[:600]}... ({len(self.curl)} characters)"
        return f"{self.operation} as {self.caller}: {self.status} {self.problem}\n    {curl}"


@dataclass
class Run:
    """The fuzzing session: the server, its keys, and what it answered."""

    base: str
    credentials: dict[str, str | None]  # caller name -> bearer key (None: no key)
    authority: SigningAuthority
    http: requests.Session = field(default_factory=requests.Session)
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    failures_per_operation: Counter[str] = field(default_factory=Counter)
    per_operation: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def requests_made(self) -> int:
        return sum(self.statuses.values())

    def send(self, case: Case, caller: str) -> tuple[int, str | None] | None:
        """Send ``case`` as ``caller``; check the answer; return its status and error code."""
        key = self.credentials[caller]
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if caller == Role.AUTHORITY.value:
            signed = self._signed(case, headers)
            if signed is not None:
                return self._check(case.operation.label, caller, case.method, signed, lambda: _curl(case))
        return self._check(
            case.operation.label,
            caller,
            case.method,
            lambda: case.call(base_url=self.base, session=self.http, headers=headers, timeout=60),
            lambda: _curl(case),
        )

    def send_raw(self, case: Case, caller: str, body: bytes) -> None:
        """Send ``body`` as the JSON body of ``case``'s operation, bypassing any JSON encoder."""
        key = self.credentials[caller]
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
        url = f"{self.base}{case.formatted_path}"
        self._check(
            case.operation.label,
            caller,
            case.method,
            lambda: self.http.request(case.method, url, data=body, headers=headers, timeout=60),
            lambda: f"{case.method} {url} with a body of {len(body)} bytes starting {body[:40]!r}",
        )

    def _signed(self, case: Case, headers: dict[str, str]) -> Callable[[], requests.Response] | None:
        """An authority signs the bodies it sends; without that an order is refused at the door."""
        if case.operation.method.upper() != "POST" or "/orders" not in case.operation.path:
            return None
        if not isinstance(case.body, dict) or (case.media_type or "").split(";")[0] != "application/json":
            return None
        if "authority_id" in case.body:  # an order names the authority that signs it, or is refused unread
            case.body["authority_id"] = self.authority.id
        body = json.dumps(case.body).encode()
        return lambda: self.http.post(
            f"{self.base}{case.formatted_path}",
            data=body,
            params=case.query,
            headers={
                **headers,
                "Content-Type": "application/json",
                SIGNATURE_HEADER: self.authority.sign(body),
            },
            timeout=60,
        )

    def send_page(self, path: str, params: dict[str, str]) -> None:
        """An HTML page (public, or the consoles' door): it answers in HTML, so only no 5xx is checked."""
        url = f"{self.base}{path}"
        self._check(
            f"GET {path}",
            NO_KEY,
            "GET",
            lambda: self.http.get(url, params=params, timeout=60),
            lambda: f"GET {url} {params}",
            api=False,
        )

    def _check(
        self,
        label: str,
        caller: str,
        method: str,
        call: Callable[[], Any],
        curl: Callable[[], str],
        api: bool = True,
    ) -> tuple[int, str | None] | None:
        try:
            try:
                response = call()
            except requests.ConnectionError:
                # uvicorn closes a connection after a 500, which the previous request reported; the
                # request is sent again on a fresh connection, and only a second failure is a finding
                response = call()
        except (requests.RequestException, OSError) as exc:
            self._found(Finding(label, caller, None, f"no response: {exc}", curl()))
            return None
        status = int(response.status_code)
        self.statuses[status] += 1
        self.per_operation[label][status] += 1
        if status >= 500:
            self._found(Finding(label, caller, status, response.text[:300], curl()))
            return status, None
        if status < 400 or method.upper() == "HEAD" or not api:  # a HEAD answer has no body to check
            return status, None
        code = _error_code(response.content)
        if code is None:
            self._found(
                Finding(label, caller, status, f"not the error shape: {response.text[:200]!r}", curl())
            )
        return status, code

    def _found(self, finding: Finding) -> None:
        # a few per operation are enough to act on; hundreds would hide the others
        self.failures_per_operation[finding.operation] += 1
        if self.failures_per_operation[finding.operation] <= 3:
            self.findings.append(finding)


def _error_code(body: bytes) -> str | None:
    """The error code of a body in the API's error shape, or None if it is not in that shape."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None
    code, message = error.get("code"), error.get("message")
    if not (isinstance(code, str) and code and isinstance(message, str) and message):
        return None
    return code


def _curl(case: Case) -> str:
    try:
        return case.as_curl_command()
    except Exception as exc:  # a case whose request cannot be written as curl is still a finding
        return f"(no curl command: {exc})"


def _drain(stream: Any, into: list[str]) -> None:
    """Read the server's log as it is written: a full pipe would block the server."""
    for line in iter(stream.readline, b""):
        into.append(line.decode(errors="replace"))
        del into[:-400]


# --- the server and what the fuzzer can aim at ------------------------------------------------------


@dataclass
class Seeded:
    credentials: dict[str, str | None]
    authority: SigningAuthority
    known: dict[str, str]  # path parameter name -> the id of an object that exists


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()
    return data


def _seed(client: httpx.Client, admin: dict[str, str]) -> Seeded:
    """A key for every role, and one object of each kind the API names in its paths."""
    authority = SigningAuthority("fr-fuzz", "FR", ["tco_removal", "dsa_art9"], "Autorité de test")
    _ok(client.post("/v1/authorities", json=authority.registration(), headers=admin), 201)
    flagger = {
        "id": "fuzz-flagger",
        "name": "Fuzz e.V.",
        "country": "DE",
        "expertise": ["hate_speech", "terrorism"],
        "coordinator": "Bundesnetzagentur",
        "contact_email": "notices@fuzz.example",
    }
    _ok(client.post("/v1/trusted-flaggers", json=flagger, headers=admin), 201)
    bound = {Role.AUTHORITY: authority.id, Role.TRUSTED_FLAGGER: flagger["id"]}
    assert set(bound) == BOUND_ROLES, "a new bound role: tell the test what to bind its key to"
    credentials: dict[str, str | None] = {NO_KEY: None}
    for role in Role:
        minted = _ok(
            client.post(
                "/v1/keys",
                json={"role": role.value, "label": f"fuzz {role.value}", "bound_to": bound.get(role)},
                headers=admin,
            ),
            201,
        )
        credentials[role.value] = minted["key"]

    # objects the fuzzer may change or revoke: separate from those the keys above depend on
    spare_authority = SigningAuthority("de-spare", "DE", ["tco_removal"], "Spare authority")
    _ok(client.post("/v1/authorities", json=spare_authority.registration(), headers=admin), 201)
    spare_flagger = {**flagger, "id": "spare-flagger", "contact_email": "spare@fuzz.example"}
    _ok(client.post("/v1/trusted-flaggers", json=spare_flagger, headers=admin), 201)
    spare_key = _ok(client.post("/v1/keys", json={"role": "auditor", "label": "spare"}, headers=admin), 201)
    _ok(client.post("/v1/banks", json={"name": "fuzz-bank", "category": "terrorism"}, headers=admin), 201)
    endpoint = _ok(client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=admin), 201)

    platform = {"Authorization": f"Bearer {credentials[Role.PLATFORM.value]}"}
    item = {"id": "fuzz/post-1", "author_id": "fuzz-user", "channel_id": "fuzz-channel", "text": "hello"}
    decided = _ok(client.post("/v1/content", json=item, headers=platform))
    notice = _ok(
        client.post(
            "/v1/notices",
            json={
                "content_id": item["id"],
                "category": "hate_speech",
                "explanation": "this post insults a group of people for their religion",
                "reporter": {"name": "A. Person", "email": "a.person@example.org"},
                "good_faith": True,
            },
            headers=platform,
        ),
        201,
    )
    body, headers = authority.signed(
        removal_order(authority, "FUZZ-1", item["id"]), str(credentials[Role.AUTHORITY.value])
    )
    order = _ok(client.post("/v1/orders", content=body, headers=headers), 201)
    policy = client.get("/v1/policies", headers=admin).json()[0]["id"]
    known = {
        "content_id": item["id"],
        "decision_id": decided["decision_id"],
        "notice_id": notice["id"],
        "order_id": order["id"],
        "name": "fuzz-bank",
        "policy_id": policy,
        "authority_id": spare_authority.id,
        "flagger_id": spare_flagger["id"],
        "key_id": spare_key["id"],
        "endpoint_id": endpoint["id"],
    }
    if notice.get("case_id"):
        known["case_id"] = notice["case_id"]
    return Seeded(credentials, authority, known)


def _item(content_id: str) -> dict[str, Any]:
    """A content item with every field filled in."""
    return {
        "id": content_id,
        "kind": "post",
        "audience": "public",
        "author_id": "fuzz-user",
        "channel_id": "fuzz-channel",
        "country": "DE",
        "reach": 10,
        "language": "en",
        "created_at": "2026-03-01T12:00:00+01:00",
        "text": "see you all at the match on saturday",
        "media": [{"id": "m1", "mime_type": "image/jpeg", "md5": "0" * 32, "sha256": "1" * 64}],
    }


# operation -> (caller, path parameters, body)
Handmade = dict[str, tuple[str, dict[str, str], dict[str, Any]]]


def _handmade(seeded: Seeded) -> Handmade:
    """Valid requests, by operation, for the operations whose rules reach beyond what the OpenAPI
    document can say (a notice needs a 10-character explanation, an order a registered authority's
    signature ...): generated input seldom gets that far, and odd values must."""
    now = datetime.now(UTC)
    order = {
        **removal_order(seeded.authority, "FUZZ-BASE", "fuzz/post-1"),
        "respond_by": (now + timedelta(minutes=30)).isoformat(),
        "withhold_user_notice": True,
        "withhold_user_notice_until": (now + timedelta(days=7)).isoformat(),
    }
    reporter = {"name": "A. Person", "email": "a.person@example.org"}
    return {
        "POST /v1/content": (Role.PLATFORM.value, {}, _item("fuzz/base-1")),
        "POST /v1/content/batch": (Role.PLATFORM.value, {}, {"items": [_item("fuzz/base-2")]}),
        "POST /v1/notices": (
            Role.PLATFORM.value,
            {},
            {
                "content_id": "fuzz/base-3",
                "category": "hate_speech",
                "explanation": "this post insults a group of people for their religion",
                "reporter": reporter,
                "good_faith": True,
                "content": _item("fuzz/base-3"),
            },
        ),
        "POST /v1/orders": (Role.AUTHORITY.value, {}, order),
        "POST /v1/hashes/match": (
            Role.PLATFORM.value,
            {},
            {
                "hashes": [
                    {"type": "md5", "value": "0" * 32},
                    {"type": "pdq", "value": "f" * 64, "quality": 90},
                    {"type": "vpdq", "value": json.dumps(["f" * 64 + ",90,0.000", "e" * 64 + ",80,1.000"])},
                ]
            },
        ),
        "POST /v1/banks/{name}/hashes": (
            Role.ADMIN.value,
            {"name": "fuzz-bank"},
            {"hashes": [{"type": "md5", "value": "2" * 32, "source_id": "case-1", "note": "from a report"}]},
        ),
        "POST /v1/authorities": (
            Role.ADMIN.value,
            {},
            SigningAuthority("it-base", "IT", ["dsa_art9"], "Autorità di prova").registration(),
        ),
        "POST /v1/trusted-flaggers": (
            Role.ADMIN.value,
            {},
            {
                "id": "base-flagger",
                "name": "Base e.V.",
                "country": "AT",
                "expertise": ["hate_speech"],
                "coordinator": "KommAustria",
                "contact_email": "notices@base.example",
            },
        ),
    }


# --- generation ------------------------------------------------------------------------------------


# NUL is left out: the request guard refuses it before anything reads the request (tests/api cover
# that), so requests carrying it would test the guard a thousand times and the handlers not at all
CONFIG = schemathesis.Config.from_dict({"generation": {"allow-x00": False, "deterministic": True}})


def _coverage_cases(schema: Any, operation: Any) -> list[Case]:
    config = GenerationConfig(modes=list(_MODES), deterministic=True, allow_x00=False)
    return list(
        schema.iter_coverage_cases(operation, generation_modes=list(_MODES), generation_config=config)
    )


def _examples(operation: Any, mode: GenerationMode, path_parameters: dict[str, str] | None) -> list[Case]:
    """``EXAMPLES`` Hypothesis examples for one operation, the same on every run."""
    drawn: list[Case] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def draw(case: Case) -> None:
        drawn.append(case)

    try:
        draw()
    except Unsatisfiable:  # nothing in the operation can be made invalid (no body, a free-text path)
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request can be generated"
    return drawn


# Values that broke Vigil before (issue 12), put into every field of a valid request, one at a time:
# integers past 64 bits, instants that cannot be written in UTC, invisible and control characters
# in text, and (in bodies) nesting deeper than any recursive parser can follow, as JSON, YAML or CEL.
ODD_INTEGERS = (2**63, -(2**63) - 1, 10**30)
ODD_INSTANTS = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00")
ODD_TEXTS = ("id\u009bx", "id\u0085x", "id\u202ex", "id\u2028x")
DEEP = "[" * 5000 + "]" * 5000
DEEP_BODY = b"[" * 100_000


def _is_instant(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value


def _odd_values(value: object, in_body: bool) -> tuple[object, ...]:
    if isinstance(value, bool):
        return ()
    if isinstance(value, int) or (not in_body and isinstance(value, str) and re.fullmatch(r"-?\d+", value)):
        return ODD_INTEGERS  # a parameter travels as text: "100" there is an integer
    if isinstance(value, str):
        if _is_instant(value):
            return ODD_INSTANTS
        return (*ODD_TEXTS, DEEP) if in_body else ODD_TEXTS
    return ()


Path_ = tuple[str | int, ...]


def _leaves(data: object, path: Path_ = ()) -> Iterator[tuple[Path_, object]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, (*path, index))
    else:
        yield path, data


def _replaced(data: Any, path: Path_, value: object) -> Any:
    copy = json.loads(json.dumps(data))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


def _fresh(data: Any, number: int) -> Any:
    """``data`` with its ids and references made new, so that a variant of an accepted request is not
    answered as a resubmission of it (which would never read the odd value)."""
    if isinstance(data, dict):
        return {
            k: f"{v[:180]}~odd{number}" if k in _FRESH and isinstance(v, str) else _fresh(v, number)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_fresh(v, number) for v in data]
    return data


_FRESH = frozenset({"id", "content_id", "reference"})


def _odd_cases(operation: Any, valid: Case) -> list[Case]:
    """``valid`` with one of its values at a time replaced by an odd one of the same kind."""

    def variant(**changed: Any) -> Case:
        fields = {
            "method": valid.method,
            "path_parameters": dict(valid.path_parameters),
            "query": dict(valid.query),
            "body": valid.body,
            "media_type": valid.media_type,
            **changed,
        }
        return operation.Case(**fields)

    cases: list[Case] = []
    for location in ("path_parameters", "query"):
        for name, value in getattr(valid, location).items():
            cases.extend(
                variant(**{location: {**getattr(valid, location), name: odd}})
                for odd in _odd_values(value, in_body=False)
            )
    if isinstance(valid.body, (dict, list)):
        for path, value in _leaves(valid.body):
            for odd in _odd_values(value, in_body=True):
                body = _replaced(_fresh(valid.body, len(cases)), path, odd)
                cases.append(variant(body=body))
    return cases


def _size(case: Case) -> int:
    """How many values ``case`` has to replace."""
    return len(case.path_parameters) + len(case.query) + len(list(_leaves(case.body)))


def _richest(cases: list[Case]) -> Case | None:
    return max(cases, key=_size, default=None)


def _path_names(operation: Any) -> list[str]:
    return [p.name for p in operation.path_parameters]


def _admitted(run: Run, cases: list[Case]) -> list[str]:
    """Send the first cases with every key and none; the callers whose requests got past the door."""
    admitted: list[str] = []
    for caller in run.credentials:
        outcomes = [run.send(case, caller) for case in cases]
        if any(o is not None and (o[0] < 400 or o[1] not in _AUTH_REFUSALS) for o in outcomes):
            admitted.append(caller)
    return admitted


def _rotating(callers: list[str]) -> Iterator[str]:
    while True:
        yield from callers


def _fuzz(run: Run, schema: Any, operation: Any, seeded: Seeded, handmade: Handmade) -> None:
    """Every kind of request for one operation: generated, aimed at objects that exist, and odd."""
    coverage = _coverage_cases(schema, operation)
    aimed = {n: seeded.known[n] for n in _path_names(operation) if n in seeded.known}
    targets = [None, aimed] if aimed and len(aimed) == len(_path_names(operation)) else [None]
    drawn = {(mode, i): _examples(operation, mode, t) for mode in _MODES for i, t in enumerate(targets)}
    examples = [case for cases in drawn.values() for case in cases]
    callers = _admitted(run, coverage[:1] + examples[:1]) or list(run.credentials)
    turn = _rotating(callers)
    accepted: list[tuple[Case, str]] = []
    for case in coverage + examples:
        caller = next(turn)
        answer = run.send(case, caller)
        if answer is not None and answer[0] < 300:
            accepted.append((case, caller))

    # Odd values go into the fullest request the server accepted, sent by the same caller, so that
    # they are read as far as valid input is; into the fullest valid example, which holds the optional
    # fields an accepted request may lack; and into the handmade request, where there is one.
    fullest = max(accepted, key=lambda a: _size(a[0]), default=None)
    example = _richest(drawn[GenerationMode.POSITIVE, len(targets) - 1])
    bases = ([fullest] if fullest else []) + ([(example, callers[0])] if example else [])
    if operation.label in handmade:
        caller, path_parameters, body = handmade[operation.label]
        case = operation.Case(path_parameters=path_parameters, body=body, media_type="application/json")
        answer = run.send(case, caller)
        assert answer is not None, f"{operation.label}: the handmade request got no answer"
        assert answer[0] < 300, f"{operation.label}: the handmade request was refused: {answer}"
        bases.append((case, caller))
    for case, caller in bases:
        for odd in _odd_cases(operation, case):
            run.send(odd, caller)
    if bases and bases[0][0].media_type == "application/json":
        run.send_raw(bases[0][0], bases[0][1], DEEP_BODY)


def _dangling_references(document: dict[str, Any]) -> list[str]:
    """The ``$ref`` pointers of an OpenAPI document that point at nothing in it."""

    def refs(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    def resolves(pointer: str) -> bool:
        target: Any = document
        for part in pointer.removeprefix("#/").split("/"):
            if not isinstance(target, dict) or part not in target:
                return False
            target = target[part]
        return True

    return sorted({ref for ref in refs(document) if not resolves(ref)})


def _pages(run: Run) -> None:
    """The HTML pages outside the OpenAPI document, with the odd values in their parameters."""
    odd = [*ODD_INSTANTS, *ODD_TEXTS, *(str(n) for n in ODD_INTEGERS), "0001-01-01", "9999-12-31", ""]
    for value in odd:
        run.send_page("/transparency", {"date": value})
        for path in ("/console/queues/", "/console/cases/", "/console/orders/"):
            run.send_page(path + value, {})
    run.send_page("/contact", {})


def test_no_generated_request_makes_the_api_fail_or_answer_outside_its_error_shape(
    tmp_path: Path, env: dict[str, str], vigil: Vigil
) -> None:
    started = time.monotonic()
    vigil.env = env = {
        **env,
        # the fuzzer registers webhook endpoints at any URL: nothing may leave this machine
        "VIGIL_WEBHOOK_DELIVER": "false",
        "VIGIL_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",  # the endpoint the test registers itself
        "VIGIL_EVIDENCE_KEYS": "k1:" + base64.b64encode(bytes(range(32))).decode(),
    }
    init = subprocess.run([*VIGIL, "init", "--json"], cwd=tmp_path, env=env, capture_output=True, check=True)
    admin = {"Authorization": f"Bearer {json.loads(init.stdout)['admin_key']}"}
    vigil.start()
    assert vigil.process is not None
    assert vigil.process.stderr is not None
    log: list[str] = []
    threading.Thread(target=_drain, args=(vigil.process.stderr, log), daemon=True).start()
    client = httpx.Client(base_url=vigil.base, timeout=30)
    seeded = _seed(client, admin)
    document = client.get("/openapi.json").json()
    assert _dangling_references(document) == []  # what cannot be resolved cannot be generated, nor read
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 60  # the whole API, not a fragment of it
    handmade = _handmade(seeded)
    assert set(handmade) <= {o.label for o in operations}
    run = Run(vigil.base, seeded.credentials, seeded.authority)

    for operation in operations:
        _fuzz(run, schema, operation, seeded, handmade)
    _pages(run)

    alive = client.get("/healthz")
    verify = subprocess.run(
        [*VIGIL, "audit", "verify", "--json"], cwd=tmp_path, env=env, capture_output=True, check=False
    )
    print(
        f"\nfuzzed {len(operations)} operations with {run.requests_made} requests"
        f" in {time.monotonic() - started:.0f} s; statuses: {dict(sorted(run.statuses.items()))}"
    )
    if run.findings:
        for label, statuses in run.per_operation.items():
            print(label, dict(sorted(statuses.items())))
        print("".join(line[:300] for line in log[-300:]))  # the server's tracebacks
    assert not run.findings, f"{len(run.findings)} findings:\n" + "\n".join(str(f) for f in run.findings)
    assert alive.status_code == 200
    assert vigil.process.poll() is None
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["intact"] is True
    assert run.requests_made >= MIN_REQUESTS
