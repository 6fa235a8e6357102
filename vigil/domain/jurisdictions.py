"""Countries and territorial scope.

A restriction applies either everywhere (``GLOBAL``) or in a set of countries named by their
ISO 3166-1 alpha-2 codes. Geo-restrictions exist because some content is illegal only in some
places (Holocaust denial is a crime in Germany, Austria or France, not everywhere), and a platform
must not withhold it further than the law that justifies it.
"""

from __future__ import annotations

from dataclasses import dataclass

# ISO 3166-1 alpha-2, officially assigned codes.
ISO_COUNTRIES: frozenset[str] = frozenset(
    [
        "AD",
        "AE",
        "AF",
        "AG",
        "AI",
        "AL",
        "AM",
        "AO",
        "AQ",
        "AR",
        "AS",
        "AT",
        "AU",
        "AW",
        "AX",
        "AZ",
        "BA",
        "BB",
        "BD",
        "BE",
        "BF",
        "BG",
        "BH",
        "BI",
        "BJ",
        "BL",
        "BM",
        "BN",
        "BO",
        "BQ",
        "BR",
        "BS",
        "BT",
        "BV",
        "BW",
        "BY",
        "BZ",
        "CA",
        "CC",
        "CD",
        "CF",
        "CG",
        "CH",
        "CI",
        "CK",
        "CL",
        "CM",
        "CN",
        "CO",
        "CR",
        "CU",
        "CV",
        "CW",
        "CX",
        "CY",
        "CZ",
        "DE",
        "DJ",
        "DK",
        "DM",
        "DO",
        "DZ",
        "EC",
        "EE",
        "EG",
        "EH",
        "ER",
        "ES",
        "ET",
        "FI",
        "FJ",
        "FK",
        "FM",
        "FO",
        "FR",
        "GA",
        "GB",
        "GD",
        "GE",
        "GF",
        "GG",
        "GH",
        "GI",
        "GL",
        "GM",
        "GN",
        "GP",
        "GQ",
        "GR",
        "GS",
        "GT",
        "GU",
        "GW",
        "GY",
        "HK",
        "HM",
        "HN",
        "HR",
        "HT",
        "HU",
        "ID",
        "IE",
        "IL",
        "IM",
        "IN",
        "IO",
        "IQ",
        "IR",
        "IS",
        "IT",
        "JE",
        "JM",
        "JO",
        "JP",
        "KE",
        "KG",
        "KH",
        "KI",
        "KM",
        "KN",
        "KP",
        "KR",
        "KW",
        "KY",
        "KZ",
        "LA",
        "LB",
        "LC",
        "LI",
        "LK",
        "LR",
        "LS",
        "LT",
        "LU",
        "LV",
        "LY",
        "MA",
        "MC",
        "MD",
        "ME",
        "MF",
        "MG",
        "MH",
        "MK",
        "ML",
        "MM",
        "MN",
        "MO",
        "MP",
        "MQ",
        "MR",
        "MS",
        "MT",
        "MU",
        "MV",
        "MW",
        "MX",
        "MY",
        "MZ",
        "NA",
        "NC",
        "NE",
        "NF",
        "NG",
        "NI",
        "NL",
        "NO",
        "NP",
        "NR",
        "NU",
        "NZ",
        "OM",
        "PA",
        "PE",
        "PF",
        "PG",
        "PH",
        "PK",
        "PL",
        "PM",
        "PN",
        "PR",
        "PS",
        "PT",
        "PW",
        "PY",
        "QA",
        "RE",
        "RO",
        "RS",
        "RU",
        "RW",
        "SA",
        "SB",
        "SC",
        "SD",
        "SE",
        "SG",
        "SH",
        "SI",
        "SJ",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SR",
        "SS",
        "ST",
        "SV",
        "SX",
        "SY",
        "SZ",
        "TC",
        "TD",
        "TF",
        "TG",
        "TH",
        "TJ",
        "TK",
        "TL",
        "TM",
        "TN",
        "TO",
        "TR",
        "TT",
        "TV",
        "TW",
        "TZ",
        "UA",
        "UG",
        "UM",
        "US",
        "UY",
        "UZ",
        "VA",
        "VC",
        "VE",
        "VG",
        "VI",
        "VN",
        "VU",
        "WF",
        "WS",
        "YE",
        "YT",
        "ZA",
        "ZM",
        "ZW",
    ]
)

# The EEA countries the DSA Transparency Database accepts in ``territorial_scope``.
DSA_TERRITORIES: frozenset[str] = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)


class UnknownCountryError(ValueError):
    """A country code that is not an ISO 3166-1 alpha-2 code."""


def normalise_country(code: str) -> str:
    """Return ``code`` as an upper-case ISO 3166-1 alpha-2 code, or raise UnknownCountryError."""
    upper = code.strip().upper()
    if upper not in ISO_COUNTRIES:
        raise UnknownCountryError(f"unknown country code {code!r} (expected ISO 3166-1 alpha-2, e.g. 'DE')")
    return upper


@dataclass(frozen=True, slots=True)
class TerritorialScope:
    """Where a restriction applies: everywhere, or only in ``countries``."""

    countries: frozenset[str] | None = None  # None means global

    @property
    def is_global(self) -> bool:
        return self.countries is None

    @classmethod
    def of(cls, countries: list[str] | tuple[str, ...] | frozenset[str]) -> TerritorialScope:
        """A scope limited to the given countries (validated and normalised)."""
        return cls(frozenset(normalise_country(c) for c in countries))

    def union(self, other: TerritorialScope) -> TerritorialScope:
        """The scope covering both: global absorbs everything."""
        if self.countries is None or other.countries is None:
            return GLOBAL
        return TerritorialScope(self.countries | other.countries)

    def to_json(self) -> str | list[str]:
        """``"global"`` or the sorted list of country codes."""
        return "global" if self.countries is None else sorted(self.countries)

    @classmethod
    def from_json(cls, value: str | list[str]) -> TerritorialScope:
        if value == "global":
            return GLOBAL
        if isinstance(value, str):
            raise UnknownCountryError(
                f"territorial scope must be 'global' or a list of countries, not {value!r}"
            )
        return cls.of(value)


GLOBAL = TerritorialScope(None)

# The member states of the European Union: the DSA territories without the EEA's Iceland,
# Liechtenstein and Norway. A terrorist-content removal order disables access in all of them.
EU_MEMBER_STATES: frozenset[str] = DSA_TERRITORIES - {"IS", "LI", "NO"}
