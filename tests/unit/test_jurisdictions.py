"""Territorial scope, country codes, hash spelling and the DSA taxonomy mapping."""

from __future__ import annotations

import pytest

from vigil.domain.hashes import HashType, InvalidHashError, normalise_hash, parse_hash_type
from vigil.domain.jurisdictions import (
    DSA_TERRITORIES,
    GLOBAL,
    ISO_COUNTRIES,
    TerritorialScope,
    UnknownCountryError,
    normalise_country,
)
from vigil.domain.taxonomy import DSA_CLASSIFICATION, Category, StatementCategory

# --- territorial scope -----------------------------------------------------------------------------


def test_scope_of_countries_is_not_global() -> None:
    scope = TerritorialScope.of(["DE", "AT"])

    assert not scope.is_global
    assert scope.countries == {"DE", "AT"}
    assert GLOBAL.is_global


def test_union_of_two_country_scopes_covers_both() -> None:
    germany_austria = TerritorialScope.of(["DE", "AT"])
    france_austria = TerritorialScope.of(["FR", "AT"])

    assert germany_austria.union(france_austria) == TerritorialScope.of(["AT", "DE", "FR"])


@pytest.mark.parametrize("countries", [["DE"], ["DE", "FR", "US"]])
def test_global_absorbs_any_country_scope(countries: list[str]) -> None:
    scope = TerritorialScope.of(countries)

    assert scope.union(GLOBAL) == GLOBAL
    assert GLOBAL.union(scope) == GLOBAL
    assert GLOBAL.union(GLOBAL) == GLOBAL


def test_lower_case_and_padded_codes_are_normalised() -> None:
    assert TerritorialScope.of(["de", " at ", "Fr"]) == TerritorialScope.of(["DE", "AT", "FR"])
    assert normalise_country("gb") == "GB"


@pytest.mark.parametrize("code", ["XX", "EU", "UK", "DEU", "", "D"])
def test_unknown_country_code_is_refused_with_an_example_of_a_valid_one(code: str) -> None:
    with pytest.raises(UnknownCountryError, match=r"unknown country code .* ISO 3166-1 alpha-2, e\.g\. 'DE'"):
        TerritorialScope.of(["DE", code])


def test_scope_is_written_as_global_or_sorted_countries_and_read_back() -> None:
    scope = TerritorialScope.of(["FR", "DE", "AT"])

    assert scope.to_json() == ["AT", "DE", "FR"]
    assert GLOBAL.to_json() == "global"
    assert TerritorialScope.from_json(["AT", "DE", "FR"]) == scope
    assert TerritorialScope.from_json("global") == GLOBAL


def test_scope_written_as_another_word_is_refused() -> None:
    with pytest.raises(UnknownCountryError, match="must be 'global' or a list of countries"):
        TerritorialScope.from_json("europe")


def test_every_dsa_territory_is_an_iso_country() -> None:
    assert DSA_TERRITORIES <= ISO_COUNTRIES
    assert len(DSA_TERRITORIES) == 30  # EU 27 + Iceland, Liechtenstein, Norway


# --- hash spelling ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hash_type", "value"),
    [
        (HashType.MD5, "D41D8CD98F00B204E9800998ECF8427E"),
        (HashType.SHA256, "AB" * 32),
        (HashType.PDQ, "F0" * 32),
    ],
)
def test_upper_case_hashes_are_accepted_and_lowered(hash_type: HashType, value: str) -> None:
    assert normalise_hash(hash_type, value) == value.lower()
    assert normalise_hash(hash_type, f"  {value}\n") == value.lower()


@pytest.mark.parametrize(
    ("hash_type", "value", "expected"),
    [
        (HashType.MD5, "a" * 31, "is not a md5 hash (32 hexadecimal characters)"),
        (HashType.MD5, "a" * 64, "is not a md5 hash (32 hexadecimal characters)"),
        (HashType.SHA256, "a" * 32, "is not a sha256 hash (64 hexadecimal characters)"),
        (HashType.SHA256, "g" * 64, "is not a sha256 hash (64 hexadecimal characters)"),
        (HashType.PDQ, "0x" + "a" * 62, "is not a pdq hash (64 hexadecimal characters)"),
        (HashType.MD5, "", "is not a md5 hash (32 hexadecimal characters)"),
    ],
)
def test_malformed_hash_is_refused_saying_what_was_expected(
    hash_type: HashType, value: str, expected: str
) -> None:
    with pytest.raises(InvalidHashError) as caught:
        normalise_hash(hash_type, value)

    assert str(caught.value) == f"{value!r} {expected}"


def test_very_long_bad_hash_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidHashError) as caught:
        normalise_hash(HashType.SHA256, "z" * 10_000)

    assert len(str(caught.value)) < 200
    assert "..." in str(caught.value)


def test_hash_type_names_are_read_case_insensitively_and_unknown_ones_listed() -> None:
    assert parse_hash_type(" SHA256 ") is HashType.SHA256

    with pytest.raises(InvalidHashError, match="unknown hash type 'sha1'; expected one of pdq, md5, sha256"):
        parse_hash_type("sha1")


# --- taxonomy --------------------------------------------------------------------------------------


@pytest.mark.parametrize("category", list(Category), ids=lambda c: c.value)
def test_every_category_maps_to_a_dsa_statement_category(category: Category) -> None:
    classification = DSA_CLASSIFICATION[category]

    assert isinstance(classification.category, StatementCategory)
    assert all(keyword.startswith("KEYWORD_") for keyword in classification.keywords)


def test_taxonomy_maps_nothing_but_vigil_categories() -> None:
    assert set(DSA_CLASSIFICATION) == set(Category)


def test_child_protection_categories_land_under_protection_of_minors() -> None:
    assert DSA_CLASSIFICATION[Category.CSAM].category is StatementCategory.PROTECTION_OF_MINORS
    assert DSA_CLASSIFICATION[Category.GROOMING].category is StatementCategory.PROTECTION_OF_MINORS
