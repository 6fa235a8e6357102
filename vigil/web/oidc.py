"""Organisation sign-in: Vigil as an OpenID Connect client of the organisation's provider.

The authorization code flow with PKCE (S256), ``state`` and ``nonce``: the browser is sent to the
provider with a code challenge; the provider sends it back with a code, which Vigil exchanges, with
the verifier and its client credentials, for an ID token. The ID token's signature is checked against
the provider's published keys (JWKS, found through ``/.well-known/openid-configuration``), and its
``iss``, ``aud``, ``azp``, ``exp``, ``iat``, ``nonce`` and ``at_hash`` with authlib's ``CodeIDToken``
rules, on Vigil's clock. Only asymmetric signature algorithms are accepted (never ``none``, never an
HMAC keyed with something an attacker might know).

The protocol's pieces are authlib's (authorization URL, PKCE challenge, token request, client
authentication, ID token claims) and joserfc's (JWS and JWKS, by authlib's author); the HTTP is
Vigil's own httpx client: a timeout, no redirects followed, bounded answers.

The provider's metadata and keys are cached in each process for an hour: they are public and the same
for every process, and the keys are fetched again sooner when a token names a key the cache does not
hold (the provider rotated its keys).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet

from vigil.api.auth import Identity
from vigil.config import Settings
from vigil.web.oidc_roles import RoleMap, RolesFileError, load_roles_file

# asymmetric algorithms only: the provider signs with a private key, Vigil checks with the public one
SIGNING_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
LEEWAY_SECONDS = 60  # clock skew tolerated between Vigil and the provider
HTTP_TIMEOUT_SECONDS = 5.0
MAX_ANSWER_BYTES = 256 * 1024  # a discovery document, a key set or a token answer
KEYS_REFETCH_SECONDS = 30.0  # a token naming an unknown key refetches the keys at most this often
CACHE_SECONDS = 3600.0  # how long the provider's metadata and keys are kept before they are fetched again
MAX_SUBJECT_LENGTH = 255  # OpenID Connect Core 2: "MUST NOT exceed 255 ASCII characters"
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 320
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


class OidcConfigError(ValueError):
    """Organisation sign-in settings that cannot be used; ``vigil serve`` stops with this line."""


class SignInError(Exception):
    """A sign-in refused, with the HTTP status and what the person is told."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class OidcConfig:
    """The organisation sign-in settings, checked."""

    issuer: str
    client_id: str
    client_secret: str | None
    redirect_url: str | None
    provider_name: str
    scopes: str
    roles: RoleMap


def _acceptable_url(url: str) -> bool:
    """https, or http on a loopback address (a provider on the same machine, a test's)."""
    parts = urlsplit(url)
    if not parts.netloc or parts.query or parts.fragment:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK)


def oidc_config(settings: Settings) -> OidcConfig | None:
    """The organisation sign-in settings, or None when it is not configured; raises
    :class:`OidcConfigError` (one line) when they are configured but unusable."""
    issuer = (settings.oidc_issuer or "").strip()
    if not issuer:
        stray = [
            name
            for name, value in (
                ("VIGIL_OIDC_CLIENT_ID", settings.oidc_client_id),
                ("VIGIL_OIDC_CLIENT_SECRET", settings.oidc_client_secret),
                ("VIGIL_OIDC_ROLES_FILE", settings.oidc_roles_file),
            )
            if value
        ]
        if stray:
            raise OidcConfigError(
                f"{', '.join(stray)} set, but VIGIL_OIDC_ISSUER is not: set the provider's issuer"
            )
        return None
    if not _acceptable_url(issuer):
        raise OidcConfigError(
            f"VIGIL_OIDC_ISSUER {issuer[:200]!r} is not an https URL without query or fragment"
            " (http is accepted on a loopback address only)"
        )
    if not settings.oidc_client_id:
        raise OidcConfigError(
            "VIGIL_OIDC_ISSUER is set but VIGIL_OIDC_CLIENT_ID is not: set Vigil's client id"
        )
    if settings.oidc_redirect_url:
        parts = urlsplit(settings.oidc_redirect_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise OidcConfigError(
                f"VIGIL_OIDC_REDIRECT_URL {settings.oidc_redirect_url[:200]!r} is not an absolute http(s) URL"
                " without query or fragment"
            )
    if not settings.oidc_roles_file:
        raise OidcConfigError(
            "VIGIL_OIDC_ISSUER is set but VIGIL_OIDC_ROLES_FILE is not: name the YAML file that maps the"
            " provider's groups to Vigil roles (docs/console.md)"
        )
    try:
        roles = load_roles_file(Path(settings.oidc_roles_file))
    except RolesFileError as exc:
        raise OidcConfigError(f"VIGIL_OIDC_ROLES_FILE: {exc}") from None
    scopes = settings.oidc_scopes.split()
    if "openid" not in scopes:
        raise OidcConfigError(f"VIGIL_OIDC_SCOPES {settings.oidc_scopes!r} must include 'openid'")
    name = (settings.oidc_provider_name or "").strip() or (urlsplit(issuer).hostname or issuer)
    return OidcConfig(
        issuer=issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret or None,
        redirect_url=settings.oidc_redirect_url or None,
        provider_name=name[:100],
        scopes=" ".join(scopes),
        roles=roles,
    )


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What Vigil uses of the provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The verified ID token's claims, and the person they name."""

    identity: Identity
    claims: dict[str, Any]


class OidcProvider:
    """The organisation's provider as Vigil talks to it: discovery, authorization URL, code
    exchange and ID token verification."""

    def __init__(self, config: OidcConfig, http: httpx.Client | None = None) -> None:
        self.config = config
        self.http = http or httpx.Client(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)
        self._lock = threading.Lock()
        self._metadata: ProviderMetadata | None = None
        self._metadata_fetched = 0.0
        self._keys: KeySet | None = None
        self._keys_fetched = 0.0

    # --- talking to the provider ------------------------------------------------------------------

    def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise SignInError(
                    502, f"The sign-in provider's {what} is larger than {MAX_ANSWER_BYTES} bytes."
                )
        try:
            data = json.loads(bytes(body))
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise SignInError(502, f"The sign-in provider's {what} is not a JSON object.")
        return data

    def _get(self, url: str, what: str) -> dict[str, Any]:
        try:
            with self.http.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise SignInError(
                        502, f"The sign-in provider answered {response.status_code} for its {what}."
                    )
                return self._json(response, what)
        except httpx.HTTPError as exc:
            raise SignInError(
                502, f"The sign-in provider could not be reached for its {what} ({type(exc).__name__})."
            ) from None

    def metadata(self) -> ProviderMetadata:
        """The provider's discovery document, fetched once and checked."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_fetched < CACHE_SECONDS:
                return self._metadata
        document = self._get(
            self.config.issuer.rstrip("/") + "/.well-known/openid-configuration", "configuration"
        )
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.config.issuer.rstrip("/"):
            raise SignInError(
                502,
                f"The sign-in provider's configuration names the issuer {str(issuer)[:200]!r}, not {self.config.issuer!r}.",
            )
        endpoints: dict[str, str] = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = document.get(name)
            if not isinstance(value, str) or not _acceptable_url(value.split("?", 1)[0]):
                raise SignInError(502, f"The sign-in provider's {name} is missing or not an https URL.")
            endpoints[name] = value
        offered = document.get("id_token_signing_alg_values_supported", ["RS256"])
        algorithms = tuple(a for a in SIGNING_ALGORITHMS if isinstance(offered, list) and a in offered)
        if not algorithms:
            raise SignInError(
                502, f"The sign-in provider signs ID tokens with none of {', '.join(SIGNING_ALGORITHMS)}."
            )
        found = ProviderMetadata(issuer, algorithms=algorithms, **endpoints)
        with self._lock:
            self._metadata, self._metadata_fetched = found, time.monotonic()
        return found

    def _key_set(self, refresh: bool) -> KeySet:
        with self._lock:
            keys, fetched = self._keys, self._keys_fetched
        age = time.monotonic() - fetched
        if keys is not None and age < CACHE_SECONDS and not (refresh and age > KEYS_REFETCH_SECONDS):
            return keys
        document = self._get(self.metadata().jwks_uri, "keys")
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise SignInError(502, "The sign-in provider's keys (JWKS) cannot be read.") from None
        with self._lock:
            self._keys, self._keys_fetched = keys, time.monotonic()
        return keys

    # --- the flow ----------------------------------------------------------------------------------

    def authorization_url(self, redirect_url: str, state: str, nonce: str, code_verifier: str) -> str:
        """Where to send the browser: the provider's authorization endpoint with the request."""
        url: str = prepare_grant_uri(
            self.metadata().authorization_endpoint,
            client_id=self.config.client_id,
            response_type="code",
            redirect_uri=redirect_url,
            scope=self.config.scopes,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
        return url

    def exchange(self, code: str, redirect_url: str, code_verifier: str) -> dict[str, Any]:
        """The provider's token answer for ``code`` (with the PKCE verifier and Vigil's credentials)."""
        body: str = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_url, code_verifier=code_verifier
        )
        method = "client_secret_basic" if self.config.client_secret else "none"
        auth = ClientAuth(self.config.client_id, self.config.client_secret, method)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        endpoint = self.metadata().token_endpoint
        _, headers, body = auth.prepare("POST", endpoint, headers, body)
        try:
            with self.http.stream("POST", endpoint, content=body.encode(), headers=headers) as response:
                answer = self._json(response, "token answer")
                status = response.status_code
        except httpx.HTTPError as exc:
            raise SignInError(
                502,
                f"The sign-in provider could not be reached to complete the sign-in ({type(exc).__name__}).",
            ) from None
        if status != 200:
            error = str(answer.get("error", ""))[:100]
            detail = str(answer.get("error_description", ""))[:300]
            raise SignInError(
                401,
                f"The sign-in provider refused to complete the sign-in ({error or status}{': ' + detail if detail else ''}).",
            )
        if not isinstance(answer.get("id_token"), str) or not isinstance(answer.get("access_token"), str):
            raise SignInError(502, "The sign-in provider's token answer holds no ID token.")
        return answer

    def verify(self, id_token: str, access_token: str, nonce: str, now: datetime) -> SignedIn:
        """The ID token's claims, once its signature, issuer, audience, time and nonce are right;
        raises :class:`SignInError` (401) with the reason otherwise."""
        metadata = self.metadata()
        try:
            try:
                token = jwt.decode(id_token, self._key_set(refresh=False), algorithms=metadata.algorithms)
            except InvalidKeyIdError:
                token = jwt.decode(id_token, self._key_set(refresh=True), algorithms=metadata.algorithms)
        except BadSignatureError:
            raise SignInError(
                401, "The ID token's signature does not verify against the sign-in provider's keys."
            ) from None
        except InvalidKeyIdError:
            raise SignInError(
                401, "The ID token is signed with a key the sign-in provider does not publish."
            ) from None
        except JoseError as exc:
            raise SignInError(
                401, f"The ID token cannot be read or is not signed as agreed ({exc.error})."
            ) from None
        claims = CodeIDToken(
            token.claims,
            token.header,
            {
                "iss": {"essential": True, "value": metadata.issuer},
                "aud": {"essential": True, "value": self.config.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
            },
            {"nonce": nonce, "client_id": self.config.client_id, "access_token": access_token},
        )
        try:
            claims.validate(now=int(now.timestamp()), leeway=LEEWAY_SECONDS)
        except ExpiredTokenError:
            raise SignInError(401, "The ID token has expired. Sign in again.") from None
        except ClaimError as exc:
            raise SignInError(401, _claim_problem(exc.claim)) from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_LENGTH:
            raise SignInError(401, "The ID token's subject (sub) is not a text of 1 to 255 characters.")
        identity = Identity(
            issuer=metadata.issuer,
            subject=subject,
            name=_text(claims.get("name"), MAX_NAME_LENGTH),
            email=_text(claims.get("email"), MAX_EMAIL_LENGTH),
        )
        return SignedIn(identity, dict(claims))


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


_CLAIM_PROBLEMS = {
    "iss": "The ID token was issued by another provider than the one configured (iss).",
    "aud": "The ID token was issued for another application than Vigil (aud).",
    "azp": "The ID token was issued for another application than Vigil (azp).",
    "nonce": "The ID token does not belong to this sign-in (nonce). Start again.",
    "iat": "The ID token claims to be issued in the future (iat): check the clocks.",
    "nbf": "The ID token is not valid yet (nbf): check the clocks.",
    "at_hash": "The ID token does not match the access token it came with (at_hash).",
}


def _claim_problem(claim: str) -> str:
    for name in claim.split(","):
        if name in _CLAIM_PROBLEMS:
            return _CLAIM_PROBLEMS[name]
    return f"The ID token's claim {claim[:40]!r} is missing or not valid."


def groups_of(claims: dict[str, Any], claim: str) -> list[str]:
    """The groups the ID token lists under ``claim``: a list of names, or one name."""
    value = claims.get(claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
