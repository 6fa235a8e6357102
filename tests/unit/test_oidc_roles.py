"""The organisation sign-in's roles file: groups to roles, first listed group wins, people's roles
only, and errors that name the file and line; the example in docs/console.md is read as written
(its 429 answer is checked by tests/api/test_console_sign_in_limit.py).
Also the settings' checks that stop `vigil serve`, and how the sign-in limit names clients and keys."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from vigil.config import Settings
from vigil.domain.roles import Role
from vigil.web.oidc import OidcConfigError, oidc_config
from vigil.web.oidc_roles import RoleRule, RolesFileError, parse_roles_file
from vigil.web.throttle import client_subject, key_subject

CONSOLE_DOC = Path(__file__).parents[2] / "docs" / "console.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", CONSOLE_DOC.read_text(), re.DOTALL)


def test_the_roles_file_of_docs_console_md_maps_each_group_and_the_first_listed_wins() -> None:
    [example] = _blocks("yaml")
    roles = parse_roles_file(example, "docs/console.md")

    assert roles.claim == "groups"
    assert roles.rule_for(["trust-and-safety"]) == RoleRule("trust-and-safety", Role.REVIEWER)
    assert roles.rule_for(["legal", "legal-senior"]) == RoleRule("legal-senior", Role.SENIOR_LEGAL)
    assert roles.rule_for(["trust-and-safety", "vigil-admins"]) == RoleRule("vigil-admins", Role.ADMIN)
    assert roles.rule_for(["internal-audit"]) == RoleRule("internal-audit", Role.AUDITOR)
    assert roles.rule_for(["marketing"]) is None
    assert roles.rule_for([]) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "roles:\n  - group: partners\n    role: platform\n",
            "line 3: roles.0.role: role 'platform' is not held by people and cannot be mapped",
        ),
        (
            "roles:\n  - group: flaggers\n    role: trusted_flagger\n",
            "line 3: roles.0.role: role 'trusted_flagger' is not held by people",
        ),
        ("roles:\n  - group: ops\n    role: reviwer\n", "line 3: roles.0.role: unknown role 'reviwer'"),
        (
            "roles:\n  - group: ops\n    role: reviewer\n  - group: ops\n    role: admin\n",
            "group 'ops' is listed twice",
        ),
        ("roles: []\n", "line 1: roles: List should have at least 1 item"),
        ("claim: groups\n", "roles: Field required"),
        (
            "roles:\n  - group: ops\n    role: reviewer\n    scope: all\n",
            "line 4: roles.0.scope: Extra inputs",
        ),
        (
            "roles:\n  - group: ''\n    role: reviewer\n",
            "line 2: roles.0.group: String should have at least 1",
        ),
        ("roles: [\n", "not YAML"),
        ("- just a list\n", "expected a mapping with 'roles'"),
    ],
)
def test_a_broken_roles_file_is_refused_with_the_file_line_and_reason(text: str, problem: str) -> None:
    with pytest.raises(RolesFileError) as refused:
        parse_roles_file(text, "roles.yaml")

    assert str(refused.value).startswith("roles.yaml: ")
    assert problem in str(refused.value)
    assert "\n" not in str(refused.value)


def _settings(tmp_path: Path, **values: str) -> Settings:
    roles = tmp_path / "roles.yaml"
    roles.write_text("roles:\n  - group: ops\n    role: reviewer\n")
    base: dict[str, Any] = {
        "oidc_issuer": "https://login.example.org",
        "oidc_client_id": "vigil",
        "oidc_roles_file": str(roles),
    }
    return Settings(**{**base, **values})


def test_organisation_sign_in_settings_are_read_with_their_defaults(tmp_path: Path) -> None:
    config = oidc_config(_settings(tmp_path))

    assert config is not None
    assert (config.issuer, config.client_id, config.client_secret) == (
        "https://login.example.org",
        "vigil",
        None,
    )
    assert (config.provider_name, config.scopes, config.redirect_url) == (
        "login.example.org",
        "openid profile email",
        None,
    )
    assert oidc_config(Settings()) is None


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"oidc_issuer": "http://login.example.org"}, "is not an https URL"),
        ({"oidc_issuer": "https://login.example.org/?tenant=1"}, "without query or fragment"),
        ({"oidc_client_id": ""}, "VIGIL_OIDC_CLIENT_ID is not"),
        ({"oidc_roles_file": ""}, "VIGIL_OIDC_ROLES_FILE is not"),
        (
            {"oidc_roles_file": "/no/such/roles.yaml"},
            "VIGIL_OIDC_ROLES_FILE: /no/such/roles.yaml: cannot read",
        ),
        ({"oidc_redirect_url": "/console/login/oidc/callback"}, "is not an absolute http(s) URL"),
        ({"oidc_scopes": "profile email"}, "must include 'openid'"),
        (
            {"oidc_issuer": ""},
            "VIGIL_OIDC_CLIENT_ID, VIGIL_OIDC_ROLES_FILE set, but VIGIL_OIDC_ISSUER is not",
        ),
    ],
)
def test_unusable_organisation_sign_in_settings_stop_the_start_in_one_line(
    tmp_path: Path, values: dict[str, str], problem: str
) -> None:
    with pytest.raises(OidcConfigError) as refused:
        oidc_config(_settings(tmp_path, **values))

    assert problem in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_provider_on_a_loopback_address_may_use_http(tmp_path: Path) -> None:
    for issuer in ("http://localhost:5000", "http://127.0.0.1:5000", "http://[::1]:5000"):
        assert oidc_config(_settings(tmp_path, oidc_issuer=issuer)) is not None


def test_the_sign_in_limit_counts_ipv4_addresses_and_ipv6_64_networks() -> None:
    assert client_subject("198.51.100.7") == "198.51.100.7"
    assert (
        client_subject("2001:db8:1:2:aaaa::1")
        == client_subject("2001:db8:1:2:bbbb::9")
        == "2001:db8:1:2::/64"
    )
    assert client_subject("2001:db8:1:3::1") != client_subject("2001:db8:1:2::1")
    assert client_subject("::ffff:198.51.100.7") == "198.51.100.7"
    assert client_subject(None) == "unknown"


def test_the_sign_in_limit_names_a_key_by_its_public_id_only() -> None:
    assert key_subject("vgl_0123456789ab_c2VjcmV0_with_underscores") == "0123456789ab"
    assert key_subject("vgl_0123456789ab") is None
    assert key_subject("not a key") is None
    assert key_subject("vgl_NOT-HEX_secret") is None
