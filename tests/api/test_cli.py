"""The `vigil` command line: what operators type, what they read back, and how refusals look."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.api.cli import run

pytestmark = pytest.mark.usefixtures("database")


def test_init_creates_the_database_loads_the_pack_and_prints_an_admin_key_once(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    code, out, _ = run(capsys, "init", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["admin_key"].startswith("vgl_")
    assert len(result["policies"]) == 20
    assert database.exists()
    code, out, _ = run(capsys, "key", "list", "--json")
    assert result["admin_key"] not in out
    assert json.loads(out)[0]["role"] == "admin"


@pytest.fixture
def initialised(capsys: pytest.CaptureFixture[str], database: Path) -> Path:
    assert run(capsys, "init")[0] == 0
    return database


def test_commands_refuse_to_run_before_init_and_create_nothing(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    code, out, err = run(capsys, "audit", "verify")
    assert (code, out) == (2, "")
    assert err.startswith("vigil: no Vigil database at sqlite:///")
    assert "run 'vigil init' first" in err
    assert not database.exists()


def test_init_again_keeps_policies_an_operator_changed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init")
    spam = (Path(__file__).parents[2] / "vigil/policy/packs/default/spam.yaml").read_text()
    edited = tmp_path / "spam.yaml"
    edited.write_text(spam.replace("s.score >= 0.9)", "s.score >= 0.99)"))
    run(capsys, "policy", "apply", str(edited))

    code, out, _ = run(capsys, "init", "--json")

    assert (code, json.loads(out)["policies"]) == (0, [])
    _, listed, _ = run(capsys, "policy", "list", "--json")
    assert {"id": "spam", "version": 2} in [
        {"id": p["id"], "version": p["version"]} for p in json.loads(listed)
    ]


def test_init_again_counts_only_the_packs_own_policies_as_already_in_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init")
    own = tmp_path / "label.yaml"
    own.write_text(
        "id: label-spam\nwhen: \"signals.exists(s, s.category == 'spam')\"\ncategory: spam\n"
        "ground: {type: incompatible_content, reference: 'ToS 4.7', explanation: 'Spam.'}\nactions: [label]\n"
    )
    run(capsys, "policy", "apply", str(own))

    code, out, _ = run(capsys, "init")

    assert code == 0
    assert "default policy pack: 0 policies added, 20 already in force" in out.splitlines()
    _, out, _ = run(capsys, "init", "--json")
    kept = json.loads(out)["already_in_force"]
    assert (len(kept), "label-spam" in kept) == (20, False)


@pytest.mark.usefixtures("initialised")
def test_bank_lifecycle_from_the_command_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    media = tmp_path / "known.jpg"
    media.write_bytes(b"known image bytes")
    assert run(capsys, "bank", "create", "ncmec", "--category", "csam", "--source", "ncmec")[0] == 0
    code, out, _ = run(
        capsys, "bank", "add", "ncmec", "--type", "md5", "D41D8CD98F00B204E9800998ECF8427E", "--json"
    )
    assert (code, json.loads(out)["added"]) == (0, 1)
    code, out, _ = run(capsys, "bank", "add", "ncmec", "--media", str(media), "--json")
    assert json.loads(out) == {"added": 2, "duplicates": 0, "version": 3}
    code, out, _ = run(capsys, "bank", "list", "--json")
    [bank] = json.loads(out)
    assert (bank["name"], bank["category"], bank["hash_count"]) == ("ncmec", "csam", 3)


@pytest.mark.usefixtures("initialised")
def test_bank_add_hashes_every_file_after_one_media_option_as_the_docs_write_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    files = []
    for name in ("one.bin", "two.bin", "three.bin", "four.bin"):
        files.append(tmp_path / name)
        files[-1].write_bytes(f"known file {name}".encode())  # not images: two digests each
    run(capsys, "bank", "create", "internal", "--category", "terrorism")

    code, out, err = run(capsys, "bank", "add", "internal", "--media", str(files[0]), str(files[1]), "--json")
    assert (code, err, json.loads(out)) == (0, "", {"added": 4, "duplicates": 0, "version": 2})

    # the option repeated, and hash values of a --type, keep working
    code, out, _ = run(
        capsys, "bank", "add", "internal", "--media", str(files[1]), "--media", str(files[2]), "--json"
    )
    assert (code, json.loads(out)) == (0, {"added": 2, "duplicates": 2, "version": 3})
    md5s = [hashlib.md5(f.read_bytes()).hexdigest() for f in files[2:]]
    code, out, _ = run(capsys, "bank", "add", "internal", "--type", "md5", *md5s, "--json")
    assert (code, json.loads(out)) == (0, {"added": 1, "duplicates": 1, "version": 4})


@pytest.mark.usefixtures("initialised")
def test_policy_apply_versions_and_lists(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = tmp_path / "label.yaml"
    policy.write_text(
        "id: label-spam\nwhen: \"signals.exists(s, s.category == 'spam')\"\ncategory: spam\n"
        "ground: {type: incompatible_content, reference: 'ToS 4.7', explanation: 'Spam.'}\nactions: [label]\n"
    )
    assert run(capsys, "policy", "validate", str(policy))[0] == 0
    _, out, _ = run(capsys, "policy", "apply", str(policy), "--json")
    assert json.loads(out) == [{"id": "label-spam", "version": 1, "changed": True}]
    policy.write_text(policy.read_text().replace("[label]", "[demote]"))
    _, out, _ = run(capsys, "policy", "apply", str(policy), "--json")
    assert json.loads(out) == [{"id": "label-spam", "version": 2, "changed": True}]
    _, out, _ = run(capsys, "policy", "list", "--json")
    assert ("label-spam", 2) in [(p["id"], p["version"]) for p in json.loads(out)]


@pytest.mark.usefixtures("initialised")
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("bank", "create", "b", "--category", "terorism"), "unknown category 'terorism'"),
        (
            ("bank", "add", "missing", "--type", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
            "no bank named 'missing'",
        ),
        (("bank", "add", "b", "--type", "crc32", "00"), "unknown hash type 'crc32'"),
        (("policy", "validate", "nowhere.yaml"), "no such file or folder"),
        (("key", "create", "--role", "authority"), "--bound-to is required"),
        (
            ("key", "create", "--role", "authority", "--bound-to", "fr-nobody"),
            "bound_to 'fr-nobody' is not a registered authority",
        ),
        (("bank", "frobnicate"), "No such command 'frobnicate'"),
        (("serve", "--port", "99999"), "Invalid value for '--port'"),
        (("bank", "add", "b", "d41d8cd98f00b204e9800998ecf8427e"), "give --type"),
        (("report", "daily"), "Missing option '--date'"),
        (("report", "periodic", "--from", "2026-12-01"), "Missing option '--to'"),
    ],
)
def test_bad_input_exits_2_with_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("vigil: ")
    assert expected in err


@pytest.mark.usefixtures("initialised")
def test_a_policy_with_a_typo_is_one_line_naming_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "csam.yaml"
    bad.write_text(
        "id: x\nwhen: \"signals.exists(s, s.category == 'csam')\"\ncategory: csam\n"
        "ground: {type: illegal_content, reference: r, explanation: e}\nactions: [remov]\n"
    )
    code, _, err = run(capsys, "policy", "apply", str(bad))
    assert code == 2
    assert err == (
        "vigil: policy csam.yaml line 5: unknown action 'remov' (did you mean 'remove'?); expected one of remove, "
        "geo_restrict, age_restrict, label, demote, suspend_account, ban_channel, preserve_evidence, "
        "report_hotline, notify_user\n"
    )
    assert '"x"' not in run(capsys, "policy", "list", "--json")[1]


def test_audit_verify_names_the_first_broken_link(capsys: pytest.CaptureFixture[str], database: Path) -> None:
    run(capsys, "init")
    code, out, _ = run(capsys, "audit", "verify", "--json")
    assert (code, json.loads(out)["intact"]) == (0, True)
    import sqlite3

    with sqlite3.connect(database) as db:
        db.execute("UPDATE audit_events SET payload = '{\"version\":99}' WHERE seq = 3")
    # the verification above recorded a checkpoint past event 3: only a full walk looks at it again
    code, _, err = run(capsys, "audit", "verify", "--full")
    assert code == 1
    assert err == "audit chain broken at event 3: content does not match its hash\n"


def test_serve_refuses_a_broken_queue_or_strike_file_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database: Path
) -> None:
    run(capsys, "init")
    rules = database.parent / "strikes.yaml"
    rules.write_text("window_days: 0\nsuspend_account_at: 10\nban_channel_at: 20\n")
    monkeypatch.setenv("VIGIL_STRIKE_RULES_FILE", str(rules))

    code, _, err = run(capsys, "serve")

    assert code == 2
    assert err == f"vigil: {rules}: window_days must be a whole number from 1 to 3650\n"


def test_serve_refuses_a_broken_legal_file_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database: Path
) -> None:
    run(capsys, "init")
    legal = database.parent / "legal.yaml"
    legal.write_text("jurisdictions:\n  FR: {auto_execute: [tco_removal]}\n")
    monkeypatch.setenv("VIGIL_LEGAL_FILE", str(legal))

    code, _, err = run(capsys, "serve")

    assert code == 2
    assert err.startswith(f"vigil: {legal}: jurisdictions:")
    assert "'default'" in err
    assert err.count("\n") == 1
