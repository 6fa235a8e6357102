"""The demo platform's posts: seeded, multilingual, mostly ordinary, and judged by Vigil as meant.

The last tests post the corpus through the real pipeline with the default pack (``api`` fixture) and
compare Vigil's outcome with the kind the simulator meant each post to be. Measured with seed 7
(December 2026), first 400 posts: ordinary and photo posts 311/311 ``no_action``; hard cases (news,
warnings, remembrance, counter-speech) 31/33 ``no_action`` (the misses: an English counter-speech
post quoting "migrants are animals" demoted by the embedding stage, and a Portuguese "Negar o
Holocausto é uma mentira", which contains the denial phrase, sent to review); harmful kinds 56/56
acted on or sent to review; copies of banked pictures 27/27 removed over the first 2,000 posts. The
thresholds leave room for a misfire or two without hiding a regression.
"""

from __future__ import annotations

import base64
import difflib
import functools
import itertools
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.api.conftest import Api
from vigil.demo.corpus import (
    EVERYDAY_KINDS,
    HARD_CASE_KINDS,
    HARMFUL_KINDS,
    PlatformCorpus,
    Post,
    PostKind,
    Role,
)
from vigil.demo.pictures import EDITS, edited_copy
from vigil.demo.texts import COMMON_FILE, TEXTS_DIR, TextsError, load_languages
from vigil.detect.hashing.media import bank_hashes
from vigil.detect.hashing.pdq import decode_image, hamming, pdq_dihedral
from vigil.domain.hashes import HashType

SEED = 7
SAMPLE = 2_000  # posts read by the tests that need no pipeline
PIPELINE_SAMPLE = 400  # posts sent through the pipeline: ~20 s on 2 idle cores, ~35 s on busy ones
SAFE_HOSTS = ("example.com", "example.net", ".invalid")
MATCH_DISTANCE = 31  # a new bank's PDQ threshold


@functools.cache
def _posts() -> tuple[Post, ...]:
    corpus = PlatformCorpus(SEED)
    return tuple(corpus.next_post() for _ in range(SAMPLE))


def _bank(api: Api, corpus: PlatformCorpus) -> None:
    """The demo's banks, each picture with the cropped-variant hashes of a bank built from media."""
    for bank in {(b.bank, b.category) for b in corpus.banked_pictures()}:
        created = api.client.post("/v1/banks", json={"name": bank[0], "category": bank[1]}, headers=api.admin)
        assert created.status_code == 201, created.text
    for picture in corpus.banked_pictures():
        hashes = [
            {"type": h.hash_type.value, "value": h.value, "note": h.note}
            for h in bank_hashes(picture.data, picture.note, quality_threshold=50)
        ]
        added = api.client.post(
            f"/v1/banks/{picture.bank}/hashes", json={"hashes": hashes}, headers=api.admin
        )
        assert added.status_code == 200, added.text


def _outcome(api: Api, post: Post) -> str:
    response = api.client.post("/v1/content", json=post.content(), headers=api.admin)
    assert response.status_code == 200, response.text
    return str(response.json()["decision"]["outcome"])


def _share(table: dict[PostKind, Counter[str]], kinds: frozenset[PostKind], outcome: str) -> float:
    counts = [table[k] for k in kinds]
    return sum(c[outcome] for c in counts) / sum(sum(c.values()) for c in counts)


# --- the stream ---------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_posts_and_pictures_and_another_seed_does_not() -> None:
    again = PlatformCorpus(SEED)
    assert tuple(again.next_post() for _ in range(300)) == _posts()[:300]
    assert again.banked_pictures() == PlatformCorpus(SEED).banked_pictures()

    other = PlatformCorpus(SEED + 1)
    assert [p.text for p in (other.next_post() for _ in range(50))] != [p.text for p in _posts()[:50]]
    assert other.banked_pictures()[0].data != again.banked_pictures()[0].data


def test_post_ids_are_unique() -> None:
    ids = [p.id for p in _posts()]
    assert len(set(ids)) == len(ids)


def test_posts_come_in_at_least_eight_languages_each_channel_in_one_language_and_country() -> None:
    posts = _posts()
    assert len({p.language for p in posts}) >= 8
    channels = {c.id: c for c in PlatformCorpus(SEED).accounts().channels}
    for post in posts:
        channel = channels[post.channel_id]
        assert (post.language, post.country) == (channel.language, channel.country), post


def test_ordinary_posts_are_most_of_the_traffic_and_every_kind_turns_up() -> None:
    kinds = Counter(p.kind for p in _posts())
    everyday = sum(kinds[k] for k in EVERYDAY_KINDS) / SAMPLE
    assert 0.70 <= everyday <= 0.90, kinds
    assert set(kinds) == set(PostKind), set(PostKind) - set(kinds)


def test_ordinary_posts_do_not_repeat_verbatim_much() -> None:
    texts = [p.text for p in _posts() if p.kind is PostKind.ORDINARY]
    assert len(set(texts)) / len(texts) >= 0.8


def test_spam_comes_in_waves_of_near_identical_posts_from_new_accounts() -> None:
    posts = _posts()
    waves: list[list[int]] = []
    for index, post in enumerate(posts):
        if post.kind is PostKind.SPAM:
            if waves and index - waves[-1][-1] <= 15:
                waves[-1].append(index)
            else:
                waves.append([index])
    assert len(waves) >= 5
    others = {p.author_id for p in posts if p.kind is not PostKind.SPAM}
    seen: set[str] = set()
    for wave in waves:
        assert len(wave) >= 5, wave  # a burst, not a trickle
        assert wave[-1] - wave[0] <= 40  # within a few seconds at ~10 posts a second
        texts = [posts[i].text for i in wave]
        assert all(difflib.SequenceMatcher(None, texts[0], t).ratio() >= 0.8 for t in texts), texts
        authors = {posts[i].author_id for i in wave}
        assert len(authors) == len(wave)  # a fresh account for each post
        assert not authors & (others | seen)
        seen |= authors
    assert min(b[0] - a[-1] for a, b in itertools.pairwise(waves)) >= 50  # then silence


def test_a_few_offenders_post_again_and_again() -> None:
    for kind in (PostKind.DRUGS, PostKind.SCAM):
        authors = Counter(p.author_id for p in _posts() if p.kind is kind)
        assert authors.most_common(1)[0][1] >= 5, (kind, authors)


def test_a_suspended_offender_and_a_banned_channel_come_back_under_new_ids() -> None:
    corpus = PlatformCorpus(SEED)
    dealers = [a for a in corpus.accounts().users if a.role is Role.DEALER]
    shops = [c for c in corpus.accounts().channels if c.owner_id in {d.id for d in dealers}]
    gone_accounts = {d.id for d in dealers}
    successors = {corpus.suspended(d.id) for d in dealers}
    gone_channels = {s.id for s in shops}
    reopened = {corpus.banned(s.id) for s in shops}

    later = [corpus.next_post() for _ in range(1_000)]

    assert not {p.author_id for p in later} & gone_accounts
    assert not {p.channel_id for p in later} & gone_channels
    drugs = [p for p in later if p.kind is PostKind.DRUGS]
    assert {p.author_id for p in drugs} & successors
    assert {p.channel_id for p in drugs} & reopened


def test_banked_pictures_are_generated_for_two_banks_and_copied_exactly_or_edited() -> None:
    corpus = PlatformCorpus(SEED)
    banked = corpus.banked_pictures()
    assert Counter((b.bank, b.category) for b in banked) == {
        ("demo-terrorism", "terrorism"): 6,
        ("demo-ncii", "ncii"): 4,
    }
    assert len({b.data for b in banked}) == len(banked)
    originals = {b.data for b in banked}
    for post in _posts():
        picture = post.picture
        if picture is None:
            assert post.kind not in (PostKind.PHOTO, PostKind.BANKED_IMAGE, PostKind.EDITED_BANKED_IMAGE)
        elif post.kind is PostKind.BANKED_IMAGE:
            assert (picture.data in originals, picture.edit) == (True, None)
        else:
            assert post.kind in (PostKind.PHOTO, PostKind.EDITED_BANKED_IMAGE)
            assert picture.data not in originals
            assert bool(picture.edit) == (post.kind is PostKind.EDITED_BANKED_IMAGE)
            assert len(picture.data) < 100_000  # small, so that posting stays fast


def test_every_edit_of_every_banked_picture_stays_within_the_match_distance() -> None:
    for picture in PlatformCorpus(SEED).banked_pictures():
        banked = [h.value for h in bank_hashes(picture.data, picture.note, 50) if h.hash_type is HashType.PDQ]
        for edit in EDITS:
            copy = pdq_dihedral(decode_image(edited_copy(picture.data, edit)))
            distance = min(hamming(a.value, b) for a in copy for b in banked)
            assert distance <= MATCH_DISTANCE, (picture.note, edit.label, distance)


def test_links_and_handles_point_nowhere_real() -> None:
    host = re.compile(r"(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})/", re.IGNORECASE)
    for post in _posts():
        for found in host.findall(post.text):
            assert found.endswith(SAFE_HOSTS), (found, post.text)


def test_the_content_body_is_what_the_api_takes() -> None:
    post = next(p for p in _posts() if p.picture is not None)
    body = post.content()
    assert (body["audience"], body["channel_id"], body["text"]) == ("public", post.channel_id, post.text)
    [media] = body["media"]  # type: ignore[misc]
    assert base64.b64decode(media["data_base64"]) == post.picture.data  # type: ignore[union-attr]


def test_a_texts_file_with_an_unknown_word_list_is_refused_naming_the_file_and_template(
    tmp_path: Path,
) -> None:
    (tmp_path / COMMON_FILE).write_text(
        (TEXTS_DIR / COMMON_FILE).read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "en.yaml").write_text(
        "language: en\nshare: 1\n"
        "channels: [{id: c, name: C, venue: community, country: GB, members: 10}]\n"
        "words: {city: [Leeds]}\n"
        "posts: {ordinary: ['Rain in {city}', 'Sun in {town}']}\n",
        encoding="utf-8",
    )
    with pytest.raises(TextsError, match=r"en\.yaml: posts\.ordinary\[1\]: unknown word list \{town\}"):
        load_languages([k.value for k in PostKind], tmp_path)


# --- through the pipeline -----------------------------------------------------------------------


def test_vigil_leaves_ordinary_posts_and_hard_cases_alone_and_acts_on_the_harm(api: Api) -> None:
    corpus = PlatformCorpus(SEED)
    _bank(api, corpus)
    table: dict[PostKind, Counter[str]] = defaultdict(Counter)
    for _ in range(PIPELINE_SAMPLE):
        post = corpus.next_post()
        table[post.kind][_outcome(api, post)] += 1
    print("\n" + "\n".join(f"{k.value:20} {dict(table[k])}" for k in PostKind if table[k]))

    assert _share(table, EVERYDAY_KINDS, "no_action") >= 0.98
    # talk about a harm is never restricted; what the classifier still suspects goes to a reviewer
    assert _share(table, HARD_CASE_KINDS, "no_action") + _share(table, HARD_CASE_KINDS, "review") == 1.0
    assert _share(table, HARD_CASE_KINDS, "no_action") >= 0.75
    assert 1 - _share(table, HARMFUL_KINDS, "no_action") >= 0.80
    outcomes = Counter(o for counts in table.values() for o in counts.elements())
    assert all(outcomes[o] >= 3 for o in ("no_action", "remove", "demote", "review")), outcomes


def test_copies_of_banked_pictures_are_removed_exact_or_edited(api: Api) -> None:
    corpus = PlatformCorpus(SEED)
    _bank(api, corpus)
    copies = [p for p in _posts() if p.kind in (PostKind.BANKED_IMAGE, PostKind.EDITED_BANKED_IMAGE)]
    outcomes = Counter(_outcome(api, p) for p in copies)
    assert len(copies) >= 20
    assert outcomes["remove"] / len(copies) >= 0.9, outcomes
