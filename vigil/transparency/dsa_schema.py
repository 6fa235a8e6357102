"""The DSA Transparency Database's rules for a statement of reasons, as a pure function.

``validate_statement`` answers what the database's ``POST /statement`` would answer: a mapping of
field name to messages, empty when the statement is accepted (the shape of the 422 body's
``errors``). ``validate_batch`` answers ``POST /statements``: the whole batch is refused when any
statement is, with each refused statement's errors under ``statement_<index>``.

The rules are the database's own, taken from its source (its Laravel validation rules; the fields
are described in docs/transparency.md, "Statements of reasons"). Vigil runs them before it stores a
statement, so that what the affected user is told is a statement the database will take, and the
tests' stand-in for the database runs them too.

Two places are deliberately stricter than the database, which silently drops what they refuse: a
field the spec *excludes* (``illegal_content_*`` on a terms-of-service ground, ``*_other`` without
its ``OTHER`` value, ``source_identity`` on ``SOURCE_VOLUNTARY``) and a field the spec does not
name. Both would make the statement Vigil keeps differ from the one the database keeps, and both
are most likely a misspelt or misplaced field, which is better found here than in the public
database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from vigil.domain.jurisdictions import DSA_TERRITORIES
from vigil.domain.taxonomy import StatementCategory

BATCH_LIMIT = 100
"""Statements per ``POST /statements``: 1 to 100."""

DECISION_VISIBILITIES = frozenset(
    (
        "DECISION_VISIBILITY_CONTENT_REMOVED",
        "DECISION_VISIBILITY_CONTENT_DISABLED",
        "DECISION_VISIBILITY_CONTENT_DEMOTED",
        "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
        "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
        "DECISION_VISIBILITY_CONTENT_LABELLED",
        "DECISION_VISIBILITY_OTHER",
    )
)
DECISION_MONETARIES = frozenset(
    ("DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER")
)
DECISION_PROVISIONS = frozenset(
    (
        "DECISION_PROVISION_PARTIAL_SUSPENSION",
        "DECISION_PROVISION_TOTAL_SUSPENSION",
        "DECISION_PROVISION_PARTIAL_TERMINATION",
        "DECISION_PROVISION_TOTAL_TERMINATION",
    )
)
DECISION_ACCOUNTS = frozenset(("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"))
ACCOUNT_TYPES = frozenset(("ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"))
ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
DECISION_GROUNDS = frozenset((ILLEGAL, INCOMPATIBLE))
CONTENT_TYPES = frozenset(
    (
        "CONTENT_TYPE_APP",
        "CONTENT_TYPE_AUDIO",
        "CONTENT_TYPE_IMAGE",
        "CONTENT_TYPE_PRODUCT",
        "CONTENT_TYPE_SYNTHETIC_MEDIA",
        "CONTENT_TYPE_TEXT",
        "CONTENT_TYPE_VIDEO",
        "CONTENT_TYPE_OTHER",
    )
)
CATEGORIES = frozenset(c.value for c in StatementCategory)
KEYWORDS = frozenset(
    (
        "KEYWORD_ADULT_SEXUAL_MATERIAL",
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
        "KEYWORD_ANIMAL_HARM",
        "KEYWORD_BIOMETRIC_DATA_BREACH",
        "KEYWORD_BULLYING_AGAINST_GIRLS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
        "KEYWORD_COORDINATED_HARM",
        "KEYWORD_COPYRIGHT_INFRINGEMENT",
        "KEYWORD_CYBER_BULLYING_INTIMIDATION",
        "KEYWORD_CYBER_HARASSMENT",
        "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
        "KEYWORD_CYBER_INCITEMENT",
        "KEYWORD_CYBER_STALKING",
        "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
        "KEYWORD_DATA_FALSIFICATION",
        "KEYWORD_DEFAMATION",
        "KEYWORD_DESIGN_INFRINGEMENT",
        "KEYWORD_DISCRIMINATION",
        "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
        "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
        "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
        "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
        "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
        "KEYWORD_HATE_SPEECH",
        "KEYWORD_HIDDEN_ADVERTISEMENT",
        "KEYWORD_HUMAN_EXPLOITATION",
        "KEYWORD_HUMAN_TRAFFICKING",
        "KEYWORD_ILLEGAL_ORGANIZATIONS",
        "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
        "KEYWORD_INAUTHENTIC_ACCOUNTS",
        "KEYWORD_INAUTHENTIC_LISTINGS",
        "KEYWORD_INAUTHENTIC_USER_REVIEWS",
        "KEYWORD_INCITEMENT_AGAINST_WOMEN",
        "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
        "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
        "KEYWORD_LANGUAGE_REQUIREMENTS",
        "KEYWORD_MISINFORMATION_DISINFORMATION",
        "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
        "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
        "KEYWORD_MISSING_PROCESSING_GROUND",
        "KEYWORD_NONCOMPLIANCE_PRICING",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
        "KEYWORD_NUDITY",
        "KEYWORD_OTHER",
        "KEYWORD_PATENT_INFRINGEMENT",
        "KEYWORD_PHISHING",
        "KEYWORD_PROHIBITED_PRODUCTS",
        "KEYWORD_PYRAMID_SCHEMES",
        "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
        "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
        "KEYWORD_RISK_PUBLIC_HEALTH",
        "KEYWORD_SELF_MUTILATION",
        "KEYWORD_STALKING",
        "KEYWORD_SUICIDE",
        "KEYWORD_TERRORIST_CONTENT",
        "KEYWORD_TRADEMARK_INFRINGEMENT",
        "KEYWORD_TRADE_SECRET_INFRINGEMENT",
        "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
        "KEYWORD_UNLAWFUL_SALE_ANIMALS",
        "KEYWORD_UNSAFE_CHALLENGES",
        "KEYWORD_UNSAFE_PRODUCTS",
        "KEYWORD_VIOLATION_EU_LAW",
        "KEYWORD_VIOLATION_NATIONAL_LAW",
    )
)
TERRITORIES = DSA_TERRITORIES
SOURCE_VOLUNTARY = "SOURCE_VOLUNTARY"
SOURCE_TYPES = frozenset(
    (
        "SOURCE_ARTICLE_16",
        "SOURCE_TRUSTED_FLAGGER",
        "SOURCE_TYPE_OTHER_NOTIFICATION",
        SOURCE_VOLUNTARY,
    )
)
YES_NO = frozenset(("Yes", "No"))
AUTOMATED_DECISIONS = frozenset(
    (
        "AUTOMATED_DECISION_FULLY",
        "AUTOMATED_DECISION_PARTIALLY",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    )
)
# ISO 639-1, upper case: the database checks ``content_language`` against exactly this list
# (EuropeanLanguagesService::ALL_LANGUAGES), case-sensitively
LANGUAGES = frozenset(
    " ".join(
        (
            "AA AB AE AF AK AM AN AR AS AV AY AZ BA BE BG BH BI BM BN BO BR BS CA CE CH CO CR CS CU CV CY",
            "DA DE DV DZ EE EL EN EO ES ET EU FA FF FI FJ FO FR FY GA GD GL GN GU GV HA HE HI HO HR HT HU HY",
            "HZ IA ID IE IG II IK IO IS IT IU JA JV KA KG KI KJ KK KL KM KN KO KR KS KU KV KW KY LA LB LG LI",
            "LN LO LT LU LV MG MH MI MK ML MN MR MS MT MY NA NB ND NE NG NL NN NO NR NV NY OC OJ OM OR OS PA",
            "PI PL PS PT QU RM RN RO RU RW SA SC SD SE SG SI SK SL SM SN SO SQ SR SS ST SU SV SW TA TE TG TH",
            "TI TK TL TN TO TR TS TT TW TY UG UK UR UZ VE VI VO WA WO XH YI YO ZA ZH ZU",
        )
    ).split(" ")
)

CONTENT_DATES = (date(2000, 1, 1), date(2038, 1, 1))
APPLICATION_DATES = (date(2020, 1, 1), date(2038, 1, 1))
END_DATES = (
    "end_date_account_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_visibility_restriction",
)

# the fields of a statement, in the order the spec lists them (and exports write them)
FIELDS = (
    "decision_visibility",
    "decision_visibility_other",
    "decision_monetary",
    "decision_monetary_other",
    "decision_provision",
    "decision_account",
    "account_type",
    "decision_ground",
    "decision_ground_reference_url",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "incompatible_content_illegal",
    "content_type",
    "content_type_other",
    "category",
    "category_addition",
    "category_specification",
    "category_specification_other",
    "territorial_scope",
    "content_language",
    "content_date",
    "application_date",
    *END_DATES,
    "decision_facts",
    "source_type",
    "source_identity",
    "automated_detection",
    "automated_decision",
    "content_id",
    "puid",
)
_KNOWN = frozenset(FIELDS)
_RESTRICTIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
_PUID = re.compile(r"[a-zA-Z0-9_-]+")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_EAN13 = re.compile(r"\d{13}")

LIMITS = {
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "decision_ground_reference_url": 500,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "content_type_other": 500,
    "category_specification_other": 500,
    "decision_facts": 5000,
    "source_identity": 500,
    "puid": 500,
}
"""The longest text each field takes, in characters."""


def _label(field: str) -> str:
    return field.replace("_", " ")


def _present(value: Any) -> bool:
    """Laravel's notion of a filled field: not null, not a blank string, not an empty array."""
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, list | dict):
        return len(value) > 0
    return True


class _Check:
    """Collects the messages of one statement, field by field."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def required(self, field: str) -> bool:
        if _present(self.data.get(field)):
            return True
        self.fail(field, f"The {_label(field)} field is required.")
        return False

    def text(self, field: str) -> None:
        value = self.data.get(field)
        if value is None:
            return
        if not isinstance(value, str):
            self.fail(field, f"The {_label(field)} field must be a string.")
        elif field in LIMITS and len(value) > LIMITS[field]:
            self.fail(
                field, f"The {_label(field)} field must not be greater than {LIMITS[field]} characters."
            )

    def one_of(self, field: str, allowed: frozenset[str]) -> None:
        value = self.data.get(field)
        if value is not None and (not isinstance(value, str) or value not in allowed):
            self.fail(field, f"The selected {_label(field)} is invalid.")

    def many_of(self, field: str, allowed: frozenset[str]) -> list[str]:
        value = self.data.get(field)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(field, f"The {_label(field)} field must be an array.")
            return []
        if any(not isinstance(v, str) or v not in allowed for v in value):
            self.fail(field, f"The selected {_label(field)} is invalid.")
        return [v for v in value if isinstance(v, str)]

    def excluded(self, field: str, condition: str) -> None:
        if _present(self.data.get(field)):
            self.fail(field, f"The {_label(field)} field is prohibited unless {condition}.")

    def day(self, field: str, earliest: date | None, latest: date) -> None:
        value = self.data.get(field)
        if value is None:
            return
        parsed = None
        if isinstance(value, str) and _DAY.fullmatch(value):
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                parsed = None
        if parsed is None:
            self.fail(field, f"The {_label(field)} does not match the format YYYY-MM-DD.")
        elif earliest is not None and parsed < earliest:
            self.fail(
                field, f"The {_label(field)} field must be a date after or equal to {earliest.isoformat()}."
            )
        elif parsed > latest:
            self.fail(
                field, f"The {_label(field)} field must be a date before or equal to {latest.isoformat()}."
            )


def validate_statement(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The database's verdict on one statement: field -> messages; empty when it would be accepted."""
    check = _Check(data)
    for field in data:
        if field not in _KNOWN:
            check.fail(field, f"The {_label(field)} field is not a field of a statement of reasons.")
    for field in LIMITS:
        check.text(field)

    if not any(_present(data.get(field)) for field in _RESTRICTIONS):
        for field in _RESTRICTIONS:
            others = " / ".join(_label(f) for f in _RESTRICTIONS if f != field)
            check.fail(field, f"The {_label(field)} field is required when none of {others} are present.")
    visibility = check.many_of("decision_visibility", DECISION_VISIBILITIES)
    _other_when(
        check,
        "decision_visibility_other",
        "DECISION_VISIBILITY_OTHER" in visibility,
        "decision visibility is other",
    )
    check.one_of("decision_monetary", DECISION_MONETARIES)
    _other_when(
        check,
        "decision_monetary_other",
        data.get("decision_monetary") == "DECISION_MONETARY_OTHER",
        "decision monetary is other",
    )
    check.one_of("decision_provision", DECISION_PROVISIONS)
    check.one_of("decision_account", DECISION_ACCOUNTS)
    check.one_of("account_type", ACCOUNT_TYPES)

    if check.required("decision_ground"):
        check.one_of("decision_ground", DECISION_GROUNDS)
    ground = data.get("decision_ground")
    _url(check, "decision_ground_reference_url")
    for field, wanted, said in (
        ("illegal_content_legal_ground", ILLEGAL, "illegal content"),
        ("illegal_content_explanation", ILLEGAL, "illegal content"),
        ("incompatible_content_ground", INCOMPATIBLE, "incompatible content"),
        ("incompatible_content_explanation", INCOMPATIBLE, "incompatible content"),
    ):
        if ground == wanted:
            if not _present(data.get(field)):
                check.fail(field, f"The {_label(field)} field is required when decision ground is {said}.")
        else:
            check.excluded(field, f"decision ground is {said}")
    if ground == INCOMPATIBLE:
        check.one_of("incompatible_content_illegal", YES_NO)
    else:
        check.excluded("incompatible_content_illegal", "decision ground is incompatible content")

    content_types = check.many_of("content_type", CONTENT_TYPES) if check.required("content_type") else []
    _other_when(check, "content_type_other", "CONTENT_TYPE_OTHER" in content_types, "content type is other")

    if check.required("category"):
        check.one_of("category", CATEGORIES)
    check.many_of("category_addition", CATEGORIES)
    check.many_of("category_specification", KEYWORDS)
    check.many_of("territorial_scope", TERRITORIES)
    check.one_of("content_language", LANGUAGES)

    if check.required("content_date"):
        check.day("content_date", *CONTENT_DATES)
    if check.required("application_date"):
        check.day("application_date", *APPLICATION_DATES)
    for field in END_DATES:
        check.day(field, None, date.max)

    check.required("decision_facts")
    if check.required("source_type"):
        check.one_of("source_type", SOURCE_TYPES)
    if data.get("source_type") == SOURCE_VOLUNTARY:
        check.excluded("source_identity", "source type is not voluntary")
    if check.required("automated_detection"):
        check.one_of("automated_detection", YES_NO)
    if check.required("automated_decision"):
        check.one_of("automated_decision", AUTOMATED_DECISIONS)
    _content_id(check)
    puid = data.get("puid")
    if check.required("puid") and isinstance(puid, str) and not _PUID.fullmatch(puid):
        check.fail("puid", "The puid field format is invalid.")
    return check.errors


def _other_when(check: _Check, field: str, needed: bool, condition: str) -> None:
    """A ``*_other`` text: required exactly when its ``OTHER`` value is chosen."""
    if needed:
        if not _present(check.data.get(field)):
            check.fail(field, f"The {_label(field)} field is required when {condition}.")
    else:
        check.excluded(field, condition)


def _url(check: _Check, field: str) -> None:
    value = check.data.get(field)
    if value is None or not isinstance(value, str):
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        check.fail(field, f"The {_label(field)} field must be a valid URL.")


def _content_id(check: _Check) -> None:
    value = check.data.get("content_id")
    if value is None:
        return
    if not isinstance(value, dict):
        check.fail("content_id", "The content id field must be an array.")
        return
    for key, identifier in value.items():
        if key != "EAN-13":
            check.fail("content_id", f"The content id field holds an unknown identifier type {key!r}.")
        elif not isinstance(identifier, str) or not _EAN13.fullmatch(identifier):
            check.fail("content_id.EAN-13", "The content id.EAN-13 field must be 13 digits.")


def validate_batch(body: Any) -> dict[str, Any]:
    """The database's verdict on a ``POST /statements`` body: its 422 ``errors``, empty to accept.

    All or nothing: one refused statement refuses the batch, and the errors name each refused
    statement by its place, ``statement_0`` for the first.
    """
    statements = body.get("statements") if isinstance(body, dict) else None
    if not isinstance(statements, list) or not statements:
        return {"statements": ["The statements field is required."]}
    if len(statements) > BATCH_LIMIT:
        return {"statements": [f"The statements field must have between 1 and {BATCH_LIMIT} items."]}
    errors: dict[str, Any] = {}
    for index, statement in enumerate(statements):
        found = (
            validate_statement(statement)
            if isinstance(statement, dict)
            else {"statement": ["The statement must be an object."]}
        )
        if found:
            errors[f"statement_{index}"] = found
    return errors
