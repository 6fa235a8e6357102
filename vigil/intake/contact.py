"""The single points of contact a platform publishes (DSA Art. 11, 12, 13; TCO Art. 15).

The law asks a provider to publish, easily found, how authorities reach it (Art. 11: e-mail,
telephone, the languages orders may be written in), how its users reach it (Art. 12: direct, rapid,
not solely automated), who represents it in the EU when it is established elsewhere (Art. 13), and
where terrorist-content removal orders go (TCO Art. 15: watched round the clock, since such an order
must be acted on within one hour). Vigil publishes them from one YAML file, the packaged
``contact.yaml`` (an example operator, to be replaced) or the file ``VIGIL_CONTACT_FILE`` names::

    operator:
      name: Example Social
      establishment_country: GB
      ...
    authorities:
      email: authorities@example.com
      accepted_languages: [en, fr, de]
      ...

The file is checked when Vigil starts, not when a prosecutor opens the page: an unknown key, a
malformed e-mail address, an ``http://`` link, a missing legal representative or a list of accepted
languages without an official language of the member state concerned stops ``vigil serve``, and
every problem is named with its line.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from vigil.domain.values import Country, Email, HttpsUrl, Languages, Line, Lines, Phone

DEFAULT_CONTACT = Path(__file__).parent / "contact.yaml"
MAX_CONTACT_BYTES = 64 * 1024

# The member states and their official languages, for DSA Art. 11(3): the languages an authority may
# use must include one of these for the member state of establishment or of the legal representative.
# National official languages only (Spain's co-official regional languages are not state-wide).
EU_MEMBER_STATES: Mapping[str, tuple[str, tuple[str, ...]]] = MappingProxyType(
    {
        "AT": ("Austria", ("de",)),
        "BE": ("Belgium", ("nl", "fr", "de")),
        "BG": ("Bulgaria", ("bg",)),
        "CY": ("Cyprus", ("el", "tr")),
        "CZ": ("Czechia", ("cs",)),
        "DE": ("Germany", ("de",)),
        "DK": ("Denmark", ("da",)),
        "EE": ("Estonia", ("et",)),
        "ES": ("Spain", ("es",)),
        "FI": ("Finland", ("fi", "sv")),
        "FR": ("France", ("fr",)),
        "GR": ("Greece", ("el",)),
        "HR": ("Croatia", ("hr",)),
        "HU": ("Hungary", ("hu",)),
        "IE": ("Ireland", ("ga", "en")),
        "IT": ("Italy", ("it",)),
        "LT": ("Lithuania", ("lt",)),
        "LU": ("Luxembourg", ("lb", "fr", "de")),
        "LV": ("Latvia", ("lv",)),
        "MT": ("Malta", ("mt", "en")),
        "NL": ("Netherlands", ("nl",)),
        "PL": ("Poland", ("pl",)),
        "PT": ("Portugal", ("pt",)),
        "RO": ("Romania", ("ro",)),
        "SE": ("Sweden", ("sv",)),
        "SI": ("Slovenia", ("sl",)),
        "SK": ("Slovakia", ("sk",)),
    }
)

# English names of the ISO 639-1 languages, for the page: a reader looks for "French", not "fr".
LANGUAGE_NAMES: Mapping[str, str] = MappingProxyType(
    dict(
        pair.strip().split("=", 1)
        for pair in """
        aa=Afar | ab=Abkhazian | ae=Avestan | af=Afrikaans | ak=Akan | am=Amharic | an=Aragonese |
        ar=Arabic | as=Assamese | av=Avaric | ay=Aymara | az=Azerbaijani | ba=Bashkir | be=Belarusian |
        bg=Bulgarian | bi=Bislama | bm=Bambara | bn=Bengali | bo=Tibetan | br=Breton | bs=Bosnian |
        ca=Catalan | ce=Chechen | ch=Chamorro | co=Corsican | cr=Cree | cs=Czech | cu=Church Slavonic |
        cv=Chuvash | cy=Welsh | da=Danish | de=German | dv=Dhivehi | dz=Dzongkha | ee=Ewe | el=Greek |
        en=English | eo=Esperanto | es=Spanish | et=Estonian | eu=Basque | fa=Persian | ff=Fulah |
        fi=Finnish | fj=Fijian | fo=Faroese | fr=French | fy=Western Frisian | ga=Irish |
        gd=Scottish Gaelic | gl=Galician | gn=Guarani | gu=Gujarati | gv=Manx | ha=Hausa | he=Hebrew |
        hi=Hindi | ho=Hiri Motu | hr=Croatian | ht=Haitian Creole | hu=Hungarian | hy=Armenian | hz=Herero |
        ia=Interlingua | id=Indonesian | ie=Interlingue | ig=Igbo | ii=Nuosu | ik=Inupiaq | io=Ido |
        is=Icelandic | it=Italian | iu=Inuktitut | ja=Japanese | jv=Javanese | ka=Georgian | kg=Kongo |
        ki=Kikuyu | kj=Kwanyama | kk=Kazakh | kl=Greenlandic | km=Khmer | kn=Kannada | ko=Korean |
        kr=Kanuri | ks=Kashmiri | ku=Kurdish | kv=Komi | kw=Cornish | ky=Kyrgyz | la=Latin |
        lb=Luxembourgish | lg=Ganda | li=Limburgish | ln=Lingala | lo=Lao | lt=Lithuanian |
        lu=Luba-Katanga | lv=Latvian | mg=Malagasy | mh=Marshallese | mi=Maori | mk=Macedonian |
        ml=Malayalam | mn=Mongolian | mr=Marathi | ms=Malay | mt=Maltese | my=Burmese | na=Nauru |
        nb=Norwegian Bokmål | nd=North Ndebele | ne=Nepali | ng=Ndonga | nl=Dutch | nn=Norwegian Nynorsk |
        no=Norwegian | nr=South Ndebele | nv=Navajo | ny=Chichewa | oc=Occitan | oj=Ojibwa | om=Oromo |
        or=Oriya | os=Ossetian | pa=Punjabi | pi=Pali | pl=Polish | ps=Pashto | pt=Portuguese | qu=Quechua |
        rm=Romansh | rn=Rundi | ro=Romanian | ru=Russian | rw=Kinyarwanda | sa=Sanskrit | sc=Sardinian |
        sd=Sindhi | se=Northern Sami | sg=Sango | si=Sinhala | sk=Slovak | sl=Slovenian | sm=Samoan |
        sn=Shona | so=Somali | sq=Albanian | sr=Serbian | ss=Swati | st=Southern Sotho | su=Sundanese |
        sv=Swedish | sw=Swahili | ta=Tamil | te=Telugu | tg=Tajik | th=Thai | ti=Tigrinya | tk=Turkmen |
        tl=Tagalog | tn=Tswana | to=Tongan | tr=Turkish | ts=Tsonga | tt=Tatar | tw=Twi | ty=Tahitian |
        ug=Uyghur | uk=Ukrainian | ur=Urdu | uz=Uzbek | ve=Venda | vi=Vietnamese | vo=Volapük | wa=Walloon |
        wo=Wolof | xh=Xhosa | yi=Yiddish | yo=Yoruba | za=Zhuang | zh=Chinese | zu=Zulu
""".split("|")  # noqa: SIM905 (183 names read better as a block than one per line)
    )
)
# What each official language of the Union calls itself, shown next to its English name.
NATIVE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "bg": "български",
        "cs": "čeština",
        "da": "dansk",
        "de": "Deutsch",
        "el": "ελληνικά",
        "es": "español",
        "et": "eesti",
        "fi": "suomi",
        "fr": "français",
        "ga": "Gaeilge",
        "hr": "hrvatski",
        "hu": "magyar",
        "it": "italiano",
        "lb": "Lëtzebuergesch",
        "lt": "lietuvių",
        "lv": "latviešu",
        "mt": "Malti",
        "nl": "Nederlands",
        "pl": "polski",
        "pt": "português",
        "ro": "română",
        "sk": "slovenčina",
        "sl": "slovenščina",
        "sv": "svenska",
        "tr": "Türkçe",
    }
)

_ROUND_THE_CLOCK = (
    "a terrorist-content removal order must be acted on within one hour of receipt (TCO Art. 3), "
    "so its contact point is watched round the clock"
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Operator(_Section):
    """The provider of the service: who the page is about."""

    name: Line = Field(description="the name the public knows the service by")
    legal_name: Line = Field(description="the company's registered name")
    address: Lines = Field(description="postal address of the registered office, one line per line")
    registration: Line | None = Field(default=None, description="company register and number")
    establishment_country: Country = Field(description="ISO 3166-1 alpha-2 code of the main establishment")


class OrderAuthentication(_Section):
    """How Vigil authenticates an order. Stated by Vigil, never configured, so the page cannot
    describe a check that ``POST /v1/orders`` does not make."""

    signature_header: Literal["Vigil-Signature"] = "Vigil-Signature"
    signature_algorithm: Literal["Ed25519"] = "Ed25519"
    description: str = (
        "Orders are accepted only from registered authorities. Each request carries the authority's "
        "API key (Authorization: Bearer) and a detached Ed25519 signature of the exact request body "
        "in the Vigil-Signature header (base64 of the 64 signature bytes), checked against the public key "
        "the authority registered (its raw 32 bytes in base64)."
    )


class AuthorityContact(_Section):
    """DSA Art. 11: the single point of contact for member states' authorities, the Commission and
    the Board."""

    email: Email
    phone: Phone = Field(description="answered 24/7")
    orders_endpoint: HttpsUrl = Field(description="the URL of POST /v1/orders")
    accepted_languages: Languages = Field(
        description="ISO 639-1 codes of the languages orders may be written in; at least one official "
        "language of the member state of establishment or of the legal representative"
    )
    registration_email: Email = Field(description="where an authority asks for its API key")


class PublishedAuthorityContact(AuthorityContact):
    """The authorities' point of contact as published, with how orders are authenticated."""

    authentication: OrderAuthentication = OrderAuthentication()


class RemovalOrderContact(_Section):
    """TCO Art. 15: the contact point for terrorist-content removal orders, by electronic means."""

    email: Email
    endpoint: HttpsUrl = Field(description="where removal orders are sent electronically (POST /v1/orders)")
    hours: Literal["24/7"] = Field(description=_ROUND_THE_CLOCK)


class UserContact(_Section):
    """DSA Art. 12: the single point of contact for recipients of the service, and notices (Art. 16)."""

    report_url: HttpsUrl = Field(description="the platform's page behind its report button")
    notices_endpoint: HttpsUrl = Field(description="POST /v1/notices, for trusted flaggers and NGOs")
    email: Email
    languages: Languages = Field(min_length=1)
    human_contact: Lines = Field(description="how a person, not only a machine, answers")


class LegalRepresentative(_Section):
    """DSA Art. 13: the representative in the Union of a provider established outside it."""

    name: Line
    address: Lines
    country: Country = Field(description="the member state where the representative is established")
    email: Email
    phone: Phone


class Coordinator(_Section):
    """The Digital Services Coordinator of the member state of establishment."""

    name: Line
    url: HttpsUrl


class ContactConfig(_Section):
    """The contact file: every point of contact the platform publishes."""

    operator: Operator
    authorities: AuthorityContact
    removal_orders: RemovalOrderContact
    users: UserContact
    legal_representative: LegalRepresentative | None = Field(
        default=None, description="required when the operator is established outside the EU"
    )
    digital_services_coordinator: Coordinator | None = None


class PublishedContact(ContactConfig):
    """What ``GET /v1/contact`` answers: the configuration, and how orders are authenticated."""

    authorities: PublishedAuthorityContact


def publish(config: ContactConfig) -> PublishedContact:
    """``config`` as published: the configuration, with Vigil's statement of how orders are checked."""
    fields = {name: getattr(config, name) for name in ContactConfig.model_fields}
    fields["authorities"] = PublishedAuthorityContact(**dict(config.authorities))
    return PublishedContact(**fields)


# --- loading ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactProblem:
    """One thing wrong with a contact file, located for the person who has to fix it."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}" if self.line is not None else self.file
        return f"contact file {where}: {self.field + ': ' if self.field else ''}{self.message}"


class ContactConfigError(ValueError):
    """A contact file that cannot be published; ``problems`` lists every reason found."""

    def __init__(self, problems: Sequence[ContactProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


Location = tuple[int | str, ...]


def _path(loc: Location) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _line_at(root: yaml.Node, loc: Location) -> int:
    """The 1-based line of the YAML node at ``loc`` (of an unknown key, the key's own line), or of its
    nearest existing ancestor."""
    node = root
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is None:  # the key itself, when loc ends at a key pydantic refused
                child = next((k for k, _ in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _section_at(loc: Location) -> type[BaseModel] | None:
    """The model of the section at ``loc`` in the contact file (None past a plain field)."""
    model: type[BaseModel] = ContactConfig
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        candidates = (field.annotation, *get_args(field.annotation))  # a section or None
        inner = next((t for t in candidates if isinstance(t, type) and issubclass(t, BaseModel)), None)
        if inner is None:
            return None
        model = inner
    return model


def _describe(error: ErrorDetails) -> str:
    kind, loc = error["type"], tuple(error["loc"])
    if kind == "extra_forbidden":
        section = _section_at(loc[:-1])
        known = list(section.model_fields) if section is not None else []
        close = difflib.get_close_matches(str(loc[-1])[:64], known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key{hint}; expected one of {', '.join(known)}"
    if kind == "missing":
        return "required, but missing"
    if kind == "model_type":
        section = _section_at(loc)
        keys = f" with the keys {', '.join(section.model_fields)}" if section is not None else ""
        return f"must be a section{keys}"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind == "literal_error" and loc[-1] == "hours":
        return f"must be '24/7': {_ROUND_THE_CLOCK}"
    if kind == "string_type" and isinstance(error["input"], bool | int | float):
        # YAML reads a bare no, on, 0123 as a boolean or a number: the fix is quotes
        return f"must be text; YAML read {error['input']!r}: put the value in quotes"
    return str(error["msg"])


def _official(country: str) -> str:
    name, languages = EU_MEMBER_STATES[country]
    return f"{name} ({country}): " + ", ".join(f"{code} ({LANGUAGE_NAMES[code]})" for code in languages)


def _rules(config: ContactConfig) -> list[tuple[Location, str]]:
    """What the law asks beyond the shape of each field: a representative in the Union for a provider
    established outside it (DSA Art. 13), and an official language of the member state concerned
    among those accepted for orders (DSA Art. 11(3))."""
    problems: list[tuple[Location, str]] = []
    established = config.operator.establishment_country
    representative = config.legal_representative
    if established not in EU_MEMBER_STATES and representative is None:
        problems.append(
            (
                ("legal_representative",),
                f"required: the operator is established in {established}, outside the EU, so it designates "
                "a legal representative in a member state (DSA Art. 13): name, address, country, email, phone",
            )
        )
    if representative is not None and representative.country not in EU_MEMBER_STATES:
        problems.append(
            (
                ("legal_representative", "country"),
                f"{representative.country} is not a member state of the EU; the legal representative is "
                "established in one (DSA Art. 13)",
            )
        )
    states = [established, *([representative.country] if representative is not None else [])]
    states = [state for state in dict.fromkeys(states) if state in EU_MEMBER_STATES]
    official = {code for state in states for code in EU_MEMBER_STATES[state][1]}
    accepted = config.authorities.accepted_languages
    where = "; or ".join(_official(state) for state in states)
    if not accepted or (official and not official & set(accepted)):
        wrong = (
            "lists no language"
            if not accepted
            else "lists no official language of the member state concerned"
        )
        need = (
            "orders must be accepted in at least one official language of the member state of "
            "establishment or of the legal representative (DSA Art. 11(3))"
        )
        problems.append(
            (("authorities", "accepted_languages"), f"{wrong}; {need}{': ' + where if where else ''}")
        )
    return problems


def parse_contact(text: str, file: str = "<input>") -> ContactConfig:
    """The contact configuration in ``text``; raises ContactConfigError listing every problem."""

    def refuse(line: int | None, message: str) -> ContactConfigError:
        return ContactConfigError([ContactProblem(file, line, "", message)])

    if len(text.encode()) > MAX_CONTACT_BYTES:
        raise refuse(None, f"larger than {MAX_CONTACT_BYTES} bytes")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise refuse(mark.line + 1 if mark is not None else None, f"not valid YAML: {reason}") from None
    except RecursionError:
        raise refuse(None, "nested too deeply to be a contact file") from None
    if root is None or not isinstance(data, dict):
        raise refuse(None, f"expected the keys {', '.join(ContactConfig.model_fields)}")
    try:
        config = ContactConfig.model_validate(data)
        found = _rules(config)
    except ValidationError as exc:
        found = [(tuple(error["loc"]), _describe(error)) for error in exc.errors()]
    if found:
        problems = [ContactProblem(file, _line_at(root, loc), _path(loc), message) for loc, message in found]
        raise ContactConfigError(sorted(problems, key=lambda p: p.line or 0))
    return config


def load_contact(path: str | Path | None = None) -> ContactConfig:
    """The contact file at ``path`` (the packaged example when None), checked in full."""
    path = Path(path) if path else DEFAULT_CONTACT
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ContactConfigError([ContactProblem(str(path), None, "", f"cannot read: {reason}")]) from None
    return parse_contact(text, str(path))
