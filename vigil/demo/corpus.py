"""What the demo's simulated messaging platform posts: an endless, seeded stream of public posts.

The platform looks like a Telegram-style messenger: broadcast channels (a news outlet's, a dealer's
"shop", a fake investment "signals" channel, an extremist relay) whose owner posts, and groups whose
members post, each in one language and country. :class:`PlatformCorpus` composes every post on the
fly from the templates and vocabularies in ``texts/<language>.yaml`` (:mod:`vigil.demo.texts`), so
nothing is downloaded and little repeats verbatim (85% of ordinary texts are unique over 2,000
posts), and it is deterministic: the same seed gives the
same posts, picture bytes included.

Most posts are ordinary. A realistic minority is harmful (scams, drug offers, spam waves, hate
speech, Holocaust denial, terrorist propaganda, copies of banked pictures) and a few are the hard
cases a moderator meets: news about those harms, warnings, remembrance and counter-speech, which
name the same things and must be left alone. Each post carries the kind the simulator meant it to
be (:class:`PostKind`), the ground truth a dashboard compares Vigil's decision with.

A few accounts offend again and again (a dealer, a scammer, a hater, an extremist channel) so that
strikes add up; when the platform suspends an account or bans a channel, :meth:`PlatformCorpus.suspended`
and :meth:`PlatformCorpus.banned` open its successor, as offenders do.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from vigil.demo import pictures
from vigil.demo.texts import Language, load_languages


class PostKind(StrEnum):
    """What the simulator meant a post to be: the ground truth for the dashboard."""

    ORDINARY = "ordinary"
    SCAM = "scam"
    DRUGS = "drugs"
    SPAM = "spam"
    HATE = "hate"
    HOLOCAUST_DENIAL = "holocaust_denial"
    TERRORISM = "terrorism"
    NEWS = "news"  # reporting on a harm (a raid, a sentence), not the harm
    WARNING = "warning"  # telling people to beware of a harm
    REMEMBRANCE = "remembrance"  # remembering the victims of the Holocaust or of an attack
    COUNTER_SPEECH = "counter_speech"  # answering hate or extremism
    BANKED_IMAGE = "banked_image"  # an exact copy of a banked picture
    EDITED_BANKED_IMAGE = "edited_banked_image"  # a banked picture cropped, resized, mirrored ...
    PHOTO = "photo"  # an ordinary post with a fresh photo

    @property
    def harmful(self) -> bool:
        """Whether a platform would want Vigil to act on (or review) a post of this kind."""
        return self in HARMFUL_KINDS


HARMFUL_KINDS = frozenset(
    {
        PostKind.SCAM,
        PostKind.DRUGS,
        PostKind.SPAM,
        PostKind.HATE,
        PostKind.HOLOCAUST_DENIAL,
        PostKind.TERRORISM,
        PostKind.BANKED_IMAGE,
        PostKind.EDITED_BANKED_IMAGE,
    }
)
HARD_CASE_KINDS = frozenset({PostKind.NEWS, PostKind.WARNING, PostKind.REMEMBRANCE, PostKind.COUNTER_SPEECH})
EVERYDAY_KINDS = frozenset({PostKind.ORDINARY, PostKind.PHOTO})


@dataclass(frozen=True, slots=True)
class Picture:
    """An image attached to a post."""

    data: bytes
    mime_type: str
    edit: str | None  # how a banked picture was changed ("mirrored", "JPEG q40" ...), None if not


@dataclass(frozen=True, slots=True)
class Post:
    """One public post of the simulated platform."""

    id: str
    author_id: str
    channel_id: str
    language: str
    country: str
    reach: int
    text: str
    kind: PostKind
    picture: Picture | None

    def content(self) -> dict[str, object]:
        """The JSON body that submits this post to ``POST /v1/content``."""
        body: dict[str, object] = {
            "id": self.id,
            "kind": "post",
            "audience": "public",
            "author_id": self.author_id,
            "channel_id": self.channel_id,
            "country": self.country,
            "reach": self.reach,
            "language": self.language,
            "text": self.text,
        }
        if self.picture is not None:
            body["media"] = [
                {
                    "id": f"{self.id}-m1",
                    "mime_type": self.picture.mime_type,
                    "data_base64": base64.b64encode(self.picture.data).decode("ascii"),
                }
            ]
        return body


@dataclass(frozen=True, slots=True)
class BankedPicture:
    """A picture the demo puts in a hash bank at start (generated, not real material)."""

    bank: str
    category: str
    data: bytes
    note: str  # what the bank says the picture is


class Venue(StrEnum):
    """What a channel is for, which says who posts there and what."""

    NEWS = "news"  # a news outlet's broadcast channel
    COMMUNITY = "community"  # a group where members chat
    SHOP = "shop"  # a dealer's broadcast channel
    SIGNALS = "signals"  # a fake investment ("crypto signals") broadcast channel
    EXTREMIST = "extremist"  # a relay of terrorist propaganda


class Role(StrEnum):
    """What an account does on the platform."""

    MEMBER = "member"
    OWNER = "owner"  # owns a news channel
    DEALER = "dealer"
    SCAMMER = "scammer"
    HATER = "hater"
    EXTREMIST = "extremist"
    NEWCOMER = "newcomer"  # a fresh account: one-off offenders and the accounts of a spam wave


@dataclass(frozen=True, slots=True)
class Channel:
    """A public channel (``kind`` "channel": only its owner posts) or group (members post)."""

    id: str
    name: str
    kind: str  # "channel" or "group"
    venue: Venue
    language: str
    country: str
    members: int
    owner_id: str | None  # the account that posts in a broadcast channel


@dataclass(frozen=True, slots=True)
class Account:
    """A user account; offenders keep their role across posts, so strikes add up."""

    id: str
    language: str
    role: Role


@dataclass(frozen=True, slots=True)
class Accounts:
    """The channels and the standing accounts (spam waves and one-off offenders bring new ones)."""

    channels: tuple[Channel, ...]
    users: tuple[Account, ...]


# --- the mix --------------------------------------------------------------------------------------

# Share of each kind among the posts that are not part of a spam wave (waves come on top, below).
MIX: dict[PostKind, float] = {
    PostKind.ORDINARY: 0.745,
    PostKind.PHOTO: 0.09,
    PostKind.NEWS: 0.03,
    PostKind.WARNING: 0.02,
    PostKind.REMEMBRANCE: 0.01,
    PostKind.COUNTER_SPEECH: 0.013,
    PostKind.SCAM: 0.02,
    PostKind.DRUGS: 0.02,
    PostKind.HATE: 0.013,
    PostKind.HOLOCAUST_DENIAL: 0.005,
    PostKind.TERRORISM: 0.01,
    PostKind.BANKED_IMAGE: 0.008,
    PostKind.EDITED_BANKED_IMAGE: 0.01,
}
# Spam comes in waves: many new accounts post near-identical texts within a few seconds (at the
# demo's ~10 posts a second: ~8-16 posts interleaved with ordinary traffic), then silence. Waves
# come at irregular but bounded intervals, so that the demo's first minute always has some.
FIRST_WAVE = (20, 80)  # the post at which the first wave starts
WAVE_GAP = (100, 220)  # posts from the end of a wave to the start of the next
WAVE_SIZE = (8, 16)
WAVE_DENSITY = 0.65  # chance that the next post belongs to the running wave
# How often a harmful post comes from the language's standing offender rather than a new account,
# and how often an offender posts in their own channel rather than in a group.
REPEAT_OFFENDER = {Role.DEALER: 0.8, Role.SCAMMER: 0.6, Role.HATER: 0.6, Role.EXTREMIST: 0.7}
OWN_CHANNEL = 0.6
# Half of each harm comes from one prolific offender (chosen by the seed), so that strikes add up to
# a suspension within the demo's first minutes (a dealer: 3 strikes a removal, suspended at 10).
PROLIFIC = 0.5
_OFFENDER_ROLE = {
    PostKind.DRUGS: Role.DEALER,
    PostKind.SCAM: Role.SCAMMER,
    PostKind.HATE: Role.HATER,
    PostKind.HOLOCAUST_DENIAL: Role.HATER,
    PostKind.TERRORISM: Role.EXTREMIST,
}
_OWNER_ROLE = {Venue.SHOP: Role.DEALER, Venue.SIGNALS: Role.SCAMMER, Venue.EXTREMIST: Role.EXTREMIST}
# Where a kind is posted besides an offender's own channel: in groups, unless listed here.
_VENUES: dict[PostKind, tuple[Venue, ...]] = {
    PostKind.ORDINARY: (Venue.COMMUNITY, Venue.NEWS),
    PostKind.NEWS: (Venue.NEWS,),
    PostKind.WARNING: (Venue.COMMUNITY, Venue.NEWS),
    PostKind.REMEMBRANCE: (Venue.NEWS, Venue.COMMUNITY),
}
_GROUPS = (Venue.COMMUNITY,)
_BANKED_KINDS = (PostKind.BANKED_IMAGE, PostKind.EDITED_BANKED_IMAGE)
_CAPTION = "{banked_caption}"  # what goes with a copy of a banked picture (texts/common.yaml)
MEMBERS_PER_LANGUAGE = 40
BANKS = (("demo-terrorism", "terrorism", 6), ("demo-ncii", "ncii", 4))  # bank, category, pictures


@dataclass(slots=True)
class _Wave:
    language: str
    text: str
    left: int


@dataclass(slots=True)
class _State:
    seq: int = 0
    wave: _Wave | None = None
    next_wave: int = 0  # the post at which the next wave starts
    # persona id -> how many times the platform replaced it (suspension, ban)
    generation: dict[str, int] = field(default_factory=dict)


class PlatformCorpus:
    """The simulated platform's posts for one seed: endless, and the same for the same seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
        self._languages = load_languages([kind.value for kind in PostKind])
        self._state = _State(next_wave=self._rng.randint(*FIRST_WAVE))
        self._channels: dict[str, Channel] = {}
        self._accounts: dict[str, Account] = {}
        for language in self._languages.values():
            self._open_language(language)
        self._prolific = {role: self._prolific_language(role) for role in REPEAT_OFFENDER}
        self._banked = self._bank_pictures()

    # --- accounts ---------------------------------------------------------------------------------

    def _open_language(self, language: Language) -> None:
        code = language.code
        for number in range(1, MEMBERS_PER_LANGUAGE + 1):
            self._add_account(Account(f"u-{code}-{number:03d}", code, Role.MEMBER))
        for kind, role in _OFFENDER_ROLE.items():
            if kind.value in language.posts:
                self._add_account(Account(f"u-{code}-{role.value}", code, role))
        for spec in language.channels:
            venue = Venue(spec.venue)
            owner: Account | None = None
            if venue is Venue.NEWS:
                owner = Account(f"u-{spec.id}", code, Role.OWNER)
            elif venue in _OWNER_ROLE:
                owner = Account(f"u-{code}-{_OWNER_ROLE[venue].value}", code, _OWNER_ROLE[venue])
            if owner is not None:
                self._add_account(owner)
            form = "group" if venue is Venue.COMMUNITY else "channel"
            self._channels[spec.id] = Channel(
                spec.id, spec.name, form, venue, code, spec.country, spec.members, owner.id if owner else None
            )

    def _prolific_language(self, role: Role) -> str:
        able = [self._languages[a.language] for a in self._accounts.values() if a.role is role]
        return self._rng.choices(able, weights=[lang.share for lang in able])[0].code

    def _add_account(self, account: Account) -> None:
        self._accounts[account.id] = account

    def accounts(self) -> Accounts:
        """The channels and standing accounts as they are now (successors replace the suspended)."""
        return Accounts(tuple(self._channels.values()), tuple(self._accounts.values()))

    def suspended(self, account_id: str) -> str | None:
        """The platform suspended this account: it no longer posts, and its owner opens a new one
        (as offenders do), whose id is returned; None for an account the corpus does not keep."""
        account = self._accounts.pop(account_id, None)
        if account is None:
            return None
        successor = replace(account, id=self._successor_id(account_id))
        self._add_account(successor)
        for channel in list(self._channels.values()):
            if channel.owner_id == account_id:
                self._channels[channel.id] = replace(channel, owner_id=successor.id)
        return successor.id

    def banned(self, channel_id: str) -> str | None:
        """The platform banned this channel: nothing more is posted there; its owners or members
        open a successor, whose id is returned (None for an unknown channel)."""
        channel = self._channels.pop(channel_id, None)
        if channel is None:
            return None
        successor_id = self._successor_id(channel_id)
        generation = self._state.generation[_persona(channel_id)]
        self._channels[successor_id] = replace(
            channel, id=successor_id, name=f"{channel.name} {generation + 1}"
        )
        return successor_id

    def _successor_id(self, current: str) -> str:
        persona = _persona(current)
        generation = self._state.generation.get(persona, 0) + 1
        self._state.generation[persona] = generation
        return f"{persona}~{generation}"

    def _offender(self, role: Role, language: str) -> Account | None:
        return next((a for a in self._accounts.values() if a.role is role and a.language == language), None)

    def _members(self, language: str) -> list[Account]:
        return [a for a in self._accounts.values() if a.role is Role.MEMBER and a.language == language]

    def _newcomer(self, language: str) -> Account:
        return Account(f"u-{language}-new-{self._rng.getrandbits(32):08x}", language, Role.NEWCOMER)

    def _channel(self, language: str, venues: Sequence[Venue], author: Account | None) -> Channel:
        """Where a post goes: often an offender's own channel, else a channel of one of ``venues``."""
        own = [c for c in self._channels.values() if author is not None and c.owner_id == author.id]
        if own and self._rng.random() < OWN_CHANNEL:
            return self._rng.choice(own)
        found = [c for c in self._channels.values() if c.language == language and c.venue in venues]
        if not found:
            raise LookupError(f"texts/{language}.yaml: no channel for {', '.join(v.value for v in venues)}")
        return self._rng.choice(found)

    # --- pictures ---------------------------------------------------------------------------------

    def _bank_pictures(self) -> tuple[BankedPicture, ...]:
        banked: list[BankedPicture] = []
        for bank, category, count in BANKS:
            for number in range(1, count + 1):
                data = pictures.banked_original(self._rng.getrandbits(32))
                note = f"demo {category} picture {number} (generated, not real material)"
                banked.append(BankedPicture(bank, category, data, note))
        return tuple(banked)

    def banked_pictures(self) -> tuple[BankedPicture, ...]:
        """The originals the demo puts in its hash banks at start; later posts copy some of them."""
        return self._banked

    # --- posts ------------------------------------------------------------------------------------

    def next_post(self) -> Post:
        """The platform's next post."""
        state = self._state
        state.seq += 1
        wave = state.wave
        if wave is not None and self._rng.random() < WAVE_DENSITY:
            return self._wave_post(wave)
        if wave is None and state.seq >= state.next_wave:
            return self._wave_post(self._start_wave())
        kinds = list(MIX)
        kind = self._rng.choices(kinds, weights=[MIX[k] for k in kinds])[0]
        return self._post(kind)

    def _post(self, kind: PostKind) -> Post:
        rng = self._rng
        picture, banked = self._picture(kind)
        language = self._language_for(kind)
        role = _OFFENDER_ROLE.get(kind) or (Role.EXTREMIST if banked == "terrorism" else None)
        author = None
        if role is not None and rng.random() < PROLIFIC:
            author = self._offender(role, self._prolific[role])
            if author is not None and (banked or kind.value in self._languages[author.language].posts):
                language = self._languages[author.language]
            else:
                author = None
        elif role is not None and rng.random() < REPEAT_OFFENDER[role]:
            author = self._offender(role, language.code)
        channel = self._channel(language.code, _VENUES.get(kind, _GROUPS), author)
        if channel.owner_id is not None:
            author = self._accounts[channel.owner_id]
        elif author is None:
            author = (
                self._newcomer(language.code) if kind.harmful else rng.choice(self._members(language.code))
            )
        text = language.fill(_CAPTION, rng) if banked else language.render(kind.value, rng)
        return self._make(kind, language.code, channel, author.id, text, picture)

    def _language_for(self, kind: PostKind) -> Language:
        # a copy of a banked picture goes with a caption any language has
        needs = PostKind.ORDINARY if kind in _BANKED_KINDS else kind
        able = [lang for lang in self._languages.values() if needs.value in lang.posts]
        return self._rng.choices(able, weights=[lang.share for lang in able])[0]

    def _picture(self, kind: PostKind) -> tuple[Picture | None, str | None]:
        """The picture a post of ``kind`` carries, and the category of the bank it copies, if any."""
        rng = self._rng
        if kind is PostKind.PHOTO:
            return Picture(pictures.fresh_photo(rng.getrandbits(32)), "image/jpeg", None), None
        if kind not in _BANKED_KINDS:
            return None, None
        original = rng.choice(self._banked)
        if kind is PostKind.BANKED_IMAGE:
            return Picture(original.data, "image/jpeg", None), original.category
        edit = rng.choice(pictures.EDITS)
        return Picture(pictures.edited_copy(original.data, edit), "image/jpeg", edit.label), original.category

    def _start_wave(self) -> _Wave:
        language = self._language_for(PostKind.SPAM)
        size = self._rng.randint(*WAVE_SIZE)
        self._state.wave = _Wave(language.code, language.render(PostKind.SPAM.value, self._rng), size)
        return self._state.wave

    def _wave_post(self, wave: _Wave) -> Post:
        language = self._languages[wave.language]
        wave.left -= 1
        if wave.left <= 0:
            self._state.wave = None
            self._state.next_wave = self._state.seq + self._rng.randint(*WAVE_GAP)
        text = language.vary(wave.text, self._rng)
        channel = self._channel(wave.language, _GROUPS, None)
        author = self._newcomer(wave.language)
        return self._make(PostKind.SPAM, wave.language, channel, author.id, text, None)

    def _make(
        self,
        kind: PostKind,
        language: str,
        channel: Channel,
        author_id: str,
        text: str,
        picture: Picture | None,
    ) -> Post:
        reach = max(1, int(channel.members * self._rng.uniform(0.4, 1.0)))
        post_id = f"p{self._state.seq}-{self._rng.getrandbits(32):08x}"
        return Post(post_id, author_id, channel.id, language, channel.country, reach, text, kind, picture)


def _persona(identifier: str) -> str:
    """The id an account or channel had before the platform first replaced it."""
    return identifier.split("~", 1)[0]
