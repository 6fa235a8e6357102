"""A plugin outside the vigil package adds a hash type and a detector, used end to end over HTTP.

The plugin is ``tests/plugins/vigil_example_plugin``: a ``text-simhash`` signal type (a 64-bit
SimHash of an item's text) and an ``invite_links`` detector, declared as entry points in its
``pyproject.toml``. The test makes it "installed" the way pip would, offline: a ``*.dist-info``
folder with those entry points, on ``sys.path`` for the test alone.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.detect.registry import SIGNAL_TYPES
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store.db import Store

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "vigil_example_plugin"

CAMPAIGN = (
    "Congratulations! You have been selected for the crypto giveaway, send 0.1 BTC to the wallet "
    "below and receive 1 BTC back within the hour, offer ends tonight"
)
CAMPAIGN_VARIANT = CAMPAIGN.replace("tonight", "tonight!!") + " hurry"
UNRELATED = "Just got back from the farmers market and the strawberries are finally in season."

CAMPAIGN_POLICY = """\
id: known-scam-campaign
description: Texts of a banked scam campaign, and their near copies, are removed.
when: "signals.exists(s, s.kind == 'hash_match' && s.hash_type == 'text-simhash' && s.distance <= 8)"
category: fraud
ground:
  type: incompatible_content
  reference: "Terms § 4.9 (scams)"
  explanation: "The text is a copy of a known scam campaign."
actions: [remove]
---
id: group-invites
description: Posts pushing people into private groups are labelled.
when: "signals.exists(s, s.detector == 'invite_links' && s.label == 'group_invite')"
category: spam
ground:
  type: incompatible_content
  reference: "Terms § 4.7"
  explanation: "The post invites people into a private group."
actions: [label]
"""


@pytest.fixture
def plugin_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The example plugin, registered from its pyproject's entry points; forgotten afterwards."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    site = tmp_path / "site"
    dist_info = site / f"vigil_example_plugin-{project['version']}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in entries.items()) + "\n"
        for group, entries in project["entry-points"].items()
    )
    (dist_info / "entry_points.txt").write_text(entry_points)
    monkeypatch.syspath_prepend(str(PLUGIN))
    monkeypatch.syspath_prepend(str(site))
    added = SIGNAL_TYPES.load_plugins()
    try:
        yield added
    finally:
        for name in added:
            SIGNAL_TYPES.unregister(name)
        for module in [m for m in sys.modules if m.partition(".")[0] == "vigil_example_plugin"]:
            del sys.modules[module]


@pytest.fixture
def api(tmp_path: Path, plugin_installed: list[str]) -> Iterator[Api]:
    """tests/api/conftest.py's app, started once the plugin is installed (as a server would be)."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'vigil.db'}",
        webhook_deliver=False,
        retro_matching=False,
        order_watch=False,
        text_classifier=False,  # the plugin's detector is what is under test
        qa_sample_rate=0.0,
    )
    store = Store(settings.database_url)
    store.migrate()
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    _, admin_key = admin.create_key(Role.ADMIN, "test admin", None, "test")
    with TestClient(create_app(settings, store)) as client:
        yield Api(client, store, admin_key)
    store.dispose()


def simhash(text: str) -> str:
    from vigil_example_plugin.simhash import simhash as plugin_simhash  # on sys.path once installed

    value: str = plugin_simhash(text)
    return value


def post(item_id: str, text: str) -> dict[str, object]:
    return {"id": item_id, "author_id": "u-1", "text": text}


def test_a_plugin_hash_type_and_detector_decide_content_over_http(api: Api) -> None:
    assert "text-simhash" in SIGNAL_TYPES
    applied = api.client.post("/v1/policies", json={"source": CAMPAIGN_POLICY}, headers=api.admin)
    assert applied.status_code == 201, applied.text
    created = api.client.post(
        "/v1/banks", json={"name": "scam-campaigns", "category": "fraud", "threshold": 8}, headers=api.admin
    )
    assert created.status_code == 201, created.text

    # upper case is normalised, as for the built-in types
    added = api.client.post(
        "/v1/banks/scam-campaigns/hashes",
        json={"hashes": [{"type": "text-simhash", "value": simhash(CAMPAIGN).upper(), "note": "wave 1"}]},
        headers=api.admin,
    )
    assert added.status_code == 200, added.text
    assert added.json()["added"] == 1

    variant = api.client.post("/v1/content", json=post("p-1", CAMPAIGN_VARIANT), headers=api.admin)
    assert variant.status_code == 200, variant.text
    body = variant.json()
    [match] = [s for s in body["signals"] if s["hash_type"] == "text-simhash"]
    assert match["detector"] == "text-simhash_bank"
    assert match["bank"] == "scam-campaigns"
    assert 0 < match["distance"] <= 8  # a near copy, not the banked text itself
    assert "remove" in body["decision"]["actions"]
    assert any(p.startswith("known-scam-campaign@") for p in body["decision"]["policies"])

    unrelated = api.client.post("/v1/content", json=post("p-2", UNRELATED), headers=api.admin).json()
    assert unrelated["signals"] == []
    assert unrelated["decision"]["outcome"] == "no_action"

    invite = "Join us here for the real numbers: t.me/+AbCdEf123 and discord.gg/xyz-42"
    labelled = api.client.post("/v1/content", json=post("p-3", invite), headers=api.admin).json()
    [found] = labelled["signals"]
    assert (found["detector"], found["label"]) == ("invite_links", "group_invite")
    assert "label" in labelled["decision"]["actions"]
    assert any(p.startswith("group-invites@") for p in labelled["decision"]["policies"])


def test_hashes_of_a_plugin_type_are_matched_hash_only(api: Api) -> None:
    api.client.post(
        "/v1/banks", json={"name": "scams", "category": "fraud", "threshold": 8}, headers=api.admin
    )
    api.client.post(
        "/v1/banks/scams/hashes",
        json={"hashes": [{"type": "text-simhash", "value": simhash(CAMPAIGN)}]},
        headers=api.admin,
    )

    response = api.client.post(
        "/v1/hashes/match",
        json={
            "hashes": [
                {"type": "text-simhash", "value": simhash(CAMPAIGN_VARIANT)},
                {"type": "text-simhash", "value": simhash(UNRELATED)},
            ]
        },
        headers=api.admin,
    )

    assert response.status_code == 200, response.text
    near, far = response.json()["results"]
    assert near["matched"] is True
    [match] = near["matches"]
    assert (match["bank"], match["category"], match["hash_type"]) == ("scams", "fraud", "text-simhash")
    assert far == {
        "type": "text-simhash",
        "value": simhash(UNRELATED),
        "matched": False,
        "matches": [],
        "note": None,
    }


def test_a_malformed_plugin_hash_is_refused_with_the_plugins_reason(api: Api) -> None:
    api.client.post("/v1/banks", json={"name": "scams", "category": "fraud"}, headers=api.admin)

    response = api.client.post(
        "/v1/banks/scams/hashes",
        json={"hashes": [{"type": "text-simhash", "value": "xyz"}]},
        headers=api.admin,
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_hash"
    assert error["details"] == [
        {"loc": "hashes.0.value", "message": "'xyz' is not a text-simhash hash (16 hexadecimal characters)"}
    ]


def test_an_unknown_hash_type_is_still_refused_as_before(api: Api) -> None:
    for path, body in (
        ("/v1/banks/scams/hashes", {"hashes": [{"type": "tmk", "value": "00"}]}),
        ("/v1/hashes/match", {"hashes": [{"type": "tmk", "value": "00"}]}),
    ):
        response = api.client.post(path, json=body, headers=api.admin)

        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        expected = "Input should be 'pdq', 'md5', 'sha256', 'vpdq' or 'text-simhash'"
        assert error["details"] == [{"loc": "hashes.0.type", "message": expected, "type": "enum"}]


def test_without_the_plugin_its_type_is_unknown(plugin_installed: list[str]) -> None:
    assert plugin_installed == ["text-simhash"]
    SIGNAL_TYPES.unregister("text-simhash")
    plugin_installed.clear()  # nothing left to forget

    assert "text-simhash" not in SIGNAL_TYPES
    assert SIGNAL_TYPES.names == ("pdq", "md5", "sha256", "vpdq")
