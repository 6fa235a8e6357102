"""Vigil's harm categories and their mapping to the DSA statement-of-reasons taxonomy.

Vigil decides in its own category keys (short, stable, used in policies and banks); the DSA
Transparency Database speaks in ``STATEMENT_CATEGORY_*`` and ``KEYWORD_*`` values. The mapping is
fixed here, from the database's list of categories and keywords (docs/transparency.md, "The
fields"), so that what a reviewer sees and what the public database receives can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """A Vigil harm category: the key used by policies, banks, signals and decisions."""

    CSAM = "csam"
    GROOMING = "grooming"
    TERRORISM = "terrorism"
    NCII = "ncii"
    HATE_SPEECH = "hate_speech"
    DRUGS = "drugs"
    FRAUD = "fraud"
    SPAM = "spam"
    ADULT_NUDITY = "adult_nudity"


class StatementCategory(StrEnum):
    """The DSA Transparency Database's ``category`` values."""

    ANIMAL_WELFARE = "STATEMENT_CATEGORY_ANIMAL_WELFARE"
    CONSUMER_INFORMATION = "STATEMENT_CATEGORY_CONSUMER_INFORMATION"
    CYBER_VIOLENCE = "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    CYBER_VIOLENCE_AGAINST_WOMEN = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"
    DATA_PROTECTION_AND_PRIVACY_VIOLATIONS = "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
    ILLEGAL_OR_HARMFUL_SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    INTELLECTUAL_PROPERTY_INFRINGEMENTS = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS = (
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"
    )
    NOT_SPECIFIED_NOTICE = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
    OTHER_VIOLATION_TC = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    PROTECTION_OF_MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    RISK_FOR_PUBLIC_SECURITY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    SCAMS_AND_FRAUD = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    SELF_HARM = "STATEMENT_CATEGORY_SELF_HARM"
    UNSAFE_AND_PROHIBITED_PRODUCTS = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"
    VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE"


@dataclass(frozen=True, slots=True)
class DsaClassification:
    """Where a Vigil category lands in the DSA taxonomy: one category and its usual keywords."""

    category: StatementCategory
    keywords: tuple[str, ...]


DSA_CLASSIFICATION: dict[Category, DsaClassification] = {
    Category.CSAM: DsaClassification(
        StatementCategory.PROTECTION_OF_MINORS, ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",)
    ),
    Category.GROOMING: DsaClassification(
        StatementCategory.PROTECTION_OF_MINORS, ("KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",)
    ),
    Category.TERRORISM: DsaClassification(
        StatementCategory.RISK_FOR_PUBLIC_SECURITY, ("KEYWORD_TERRORIST_CONTENT",)
    ),
    Category.NCII: DsaClassification(
        StatementCategory.CYBER_VIOLENCE, ("KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",)
    ),
    Category.HATE_SPEECH: DsaClassification(
        StatementCategory.ILLEGAL_OR_HARMFUL_SPEECH, ("KEYWORD_HATE_SPEECH",)
    ),
    Category.DRUGS: DsaClassification(
        StatementCategory.UNSAFE_AND_PROHIBITED_PRODUCTS, ("KEYWORD_PROHIBITED_PRODUCTS",)
    ),
    Category.FRAUD: DsaClassification(StatementCategory.SCAMS_AND_FRAUD, ("KEYWORD_OTHER",)),
    Category.SPAM: DsaClassification(StatementCategory.OTHER_VIOLATION_TC, ()),
    Category.ADULT_NUDITY: DsaClassification(
        StatementCategory.OTHER_VIOLATION_TC, ("KEYWORD_ADULT_SEXUAL_MATERIAL",)
    ),
}
