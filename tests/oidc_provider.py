"""A real OpenID Connect provider for the sign-in tests, started by the test on a free loopback port.

The provider is ``oidc-provider-mock``: an authorization server built with authlib (discovery, JWKS,
the authorization and token endpoints, RS256-signed ID tokens with ``nonce``, ``at_hash`` and
``exp``), made for tests: its sign-in page asks only for the subject. Two things a production
provider does are added in front of it, as WSGI middleware:

- **PKCE is enforced.** The mock accepts ``code_challenge`` but does not check the verifier; here the
  token endpoint refuses (``invalid_grant``) a code whose ``code_verifier`` does not hash (S256) to
  the challenge its authorization request carried, as RFC 7636 requires of a provider.
- **A tampering switch.** ``tamper_next_id_token`` flips one byte of the signature of the next ID
  token the token endpoint returns: a token altered on its way, which Vigil must refuse.

It listens on ``localhost`` while Vigil's tests reach Vigil on ``127.0.0.1``: two sites, as a real
provider and Vigil are, so cookies behave in the browser as they would in production.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import werkzeug.serving

with warnings.catch_warnings():
    # the provider imports authlib modules that authlib has deprecated (authlib.jose, its httpx
    # client); Vigil itself uses neither
    warnings.simplefilter("ignore")
    import oidc_provider_mock

# what the provider's authlib says about its own deprecated hooks while it issues tokens
QUIET_PROVIDER = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")

CLIENT_ID = "vigil-console"
CLIENT_SECRET = "a-client-secret-for-tests"  # the mock accepts any secret; Vigil sends this one


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def flip_signature_byte(token: str) -> str:
    """``token`` (a compact JWS) with the first byte of its signature changed."""
    header, payload, signature = token.split(".")
    raw = bytearray(_unb64(signature))
    raw[0] ^= 0x01
    return f"{header}.{payload}.{_b64(bytes(raw))}"


@dataclass
class _Shim:
    """The WSGI middleware described above, in front of the mock's Flask app."""

    app: Any
    challenges: dict[str, tuple[str, str]] = field(default_factory=dict)
    tamper_next_id_token: bool = False
    pkce_refusals: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            return self._token(environ, start_response)
        result: Iterable[bytes] = self.app(environ, start_response)
        return result

    def _authorize(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        challenge = (query.get("code_challenge", [""])[0], query.get("code_challenge_method", [""])[0])

        def remember_code(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            location = next((v for k, v in headers if k.lower() == "location"), "")
            code = parse_qs(urlsplit(location).query).get("code", [""])[0]
            if code:
                with self.lock:
                    self.challenges[code] = challenge
            return start_response(status, headers, exc_info)

        result: Iterable[bytes] = self.app(environ, remember_code)
        return result

    def _token(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        form = parse_qs(body.decode())
        code, verifier = form.get("code", [""])[0], form.get("code_verifier", [""])[0]
        with self.lock:
            challenge, method = self.challenges.pop(code, ("", ""))
        expected = _b64(hashlib.sha256(verifier.encode()).digest())
        if method != "S256" or not verifier or expected != challenge:
            with self.lock:
                self.pkce_refusals += 1
            return _json(
                start_response,
                "400 BAD REQUEST",
                {"error": "invalid_grant", "error_description": "PKCE verification failed"},
            )
        environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            tamper, self.tamper_next_id_token = self.tamper_next_id_token, False
        if not tamper:
            result: Iterable[bytes] = self.app(environ, start_response)
            return result
        answered: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered["status"] = status
            return lambda data: None

        data = json.loads(b"".join(self.app(environ, keep)))
        data["id_token"] = flip_signature_byte(data["id_token"])
        return _json(start_response, answered["status"], data)


def _json(start_response: Any, status: str, data: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(data).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [payload]


@dataclass
class Provider:
    """The running provider: its issuer URL and the controls the tests use."""

    issuer: str
    shim: _Shim

    def add_user(self, sub: str, groups: list[str], name: str = "", email: str = "") -> None:
        """Create or replace the person ``sub`` with the groups (and name, email) their ID token carries."""
        claims: dict[str, Any] = {"groups": groups}
        if name:
            claims["name"] = name
        if email:
            claims["email"] = email
        response = httpx.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    def tamper_next_id_token(self) -> None:
        self.shim.tamper_next_id_token = True

    @property
    def pkce_refusals(self) -> int:
        return self.shim.pkce_refusals


@contextmanager
def running_provider() -> Iterator[Provider]:
    """A provider on a free port of ``localhost`` for the duration of the block."""
    app = oidc_provider_mock.app(require_nonce=True, issue_refresh_token=False)
    shim = _Shim(app)
    server = werkzeug.serving.make_server("localhost", 0, shim, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Provider(f"http://localhost:{server.server_port}", shim)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def authorize(browser: httpx.Client, url: str, sub: str) -> str:
    """Sign ``sub`` in on the provider's page at ``url`` (as the person would, pressing *Authorize*);
    returns where the provider sends the browser back to (Vigil's callback with code and state)."""
    page = browser.get(url)
    assert page.status_code == 200, page.text
    answer = browser.post(url, data={"sub": sub})
    assert answer.status_code == 302, answer.text
    location: str = answer.headers["location"]
    return location
