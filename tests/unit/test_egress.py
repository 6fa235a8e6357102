"""The egress policy's pure parts: which URLs parse, what each address is, and what is allowed."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.config import Settings
from vigil.enforce.egress import (
    ALLOWABLE,
    VIGIL_ITSELF,
    AddressClass,
    AddressForbidden,
    EgressPolicy,
    HostNotResolved,
    IPAddress,
    UrlInvalid,
    classify,
    embedded_ipv4,
    parse_networks,
    parse_url,
    without_credentials,
)

ALLOW_ALL = parse_networks("0.0.0.0/0,::/0")
ALWAYS_REFUSED = frozenset(AddressClass) - ALLOWABLE - {AddressClass.PUBLIC}

ipv4s = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
ipv6s = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)
addresses: st.SearchStrategy[IPAddress] = st.one_of(ipv4s, ipv6s)


def mapped(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(f"::ffff:{v4}")


def translated(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(f"::ffff:0:{v4}")


def nat64(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(f"64:ff9b::{v4}")


def six_to_four(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80) | 1)


IPV6_FORMS = (mapped, translated, nat64, six_to_four)


# --- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("http://127.0.0.1:9000/vigil", "http://127.0.0.1:9000/vigil"),
        ("HTTPS://Hooks.Example.COM/a/b?x=1&y=%2F", "https://hooks.example.com/a/b?x=1&y=%2F"),
        ("https://bücher.example/hook", "https://xn--bcher-kva.example/hook"),
        ("http://[2001:DB8::1]:8443", "http://[2001:db8::1]:8443/"),
        ("http://example.com.:80/p", "http://example.com.:80/p"),
        ("http://localhost:9000", "http://localhost:9000/"),
    ],
)
def test_a_plain_url_is_accepted_and_stored_in_one_form(url: str, stored: str) -> None:
    assert parse_url(url).url == stored


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:9/\r\nX-Injected: 1", "whitespace or control"),
        ("http://127.0.0.1:9/\nX: 1", "whitespace or control"),
        ("http://127.0.0.1:9/a\tb", "whitespace or control"),
        ("http://127.0.0.1:9/a\x00b", "whitespace or control"),
        ("http://127.0.0.1:9/a\u2028b", "whitespace or control"),
        ("http://127.0.0.1:9/a\u200bb", "whitespace or control"),
        (" http://127.0.0.1:9/", "whitespace or control"),
        ("http://exa mple.com/", "whitespace or control"),
        ("ftp://example.com/", "http or https"),
        ("javascript:alert(1)", "absolute http"),
        ("//example.com/", "absolute http"),
        ("http:/example.com/", "absolute http"),
        ("http://", "must name a host"),
        ("http://:80/", "must name a host"),
        ("http://example.com/#top", "fragment"),
        ("http://alice:s3cret@example.com/", "credentials"),
        ("http://alice@example.com/", "credentials"),
        ("http://example.com\\@127.0.0.1/", "backslash"),
        ("http://example.com:0/", "port"),
        ("http://example.com:65536/", "port"),
        ("http://example.com:/", "port"),
        ("http://example.com:+80/", "port"),
        ("http://[fe80::1%25eth0]/", "zone"),
        ("http://[::1/", "brackets"),
        ("http://::1/", "host is not valid"),
        ("http://[not-v6]/", "IPv6"),
        ("http://ex%61mple.com/", "percent-encoded"),
        ("http://a..b/", "DNS name"),
        ("http://-a.example/", "DNS name"),
        ("http://a_b.example/x y", "whitespace"),
        ("http://example.com/ä", "percent-encode"),
        ("http://example.com/<script>", "percent-encode"),
        ("http://example.com/%zz", "percent-encode"),
        ("http://2852039166/", "four decimal numbers"),
        ("http://0xa9fea9fe/", "four decimal numbers"),
        ("http://0x7f.1/", "four decimal numbers"),
        ("http://0x7f.0x0.0x0.0x1/", "four decimal numbers"),
        ("http://0177.0.0.1/", "four decimal numbers"),
        ("http://0251.0376.0251.0376/", "four decimal numbers"),
        ("http://127.1/", "four decimal numbers"),
        ("http://127.0.1/", "four decimal numbers"),
        ("http://127.000.000.001/", "four decimal numbers"),
        ("http://127.0.0.1./", "four decimal numbers"),
        ("http://256.0.0.1/", "four decimal numbers"),
        ("http://1.2.3.4.5/", "four decimal numbers"),
        ("http://example.0x10/", "four decimal numbers"),
        ("http://0/", "four decimal numbers"),
        ("http://" + "a" * 2000 + ".example/", "at most 2000"),
        ("http://bücher.example/" + "a" * 1975, "with its host in ASCII"),
    ],
)
def test_a_url_that_could_be_read_two_ways_is_refused_saying_why(url: str, says: str) -> None:
    with pytest.raises(UrlInvalid, match=says) as refused:
        parse_url(url)
    assert "s3cret" not in str(refused.value)  # nothing of the URL is quoted back
    assert "Injected" not in str(refused.value)


@given(ipv4s, st.sampled_from(["decimal", "hex", "octal", "hex-dotted", "short", "padded"]))
def test_every_numeric_form_libc_reads_as_an_ipv4_address_is_refused(
    address: ipaddress.IPv4Address, form: str
) -> None:
    a, b, c, d = address.packed
    written = {
        "decimal": str(int(address)),
        "hex": hex(int(address)),
        "octal": ".".join(f"0{o:o}" for o in address.packed),
        "hex-dotted": ".".join(hex(o) for o in address.packed),
        "short": f"{a}.{(b << 16) | (c << 8) | d}",
        "padded": ".".join(f"{o:03d}" for o in address.packed),
    }[form]
    if form != "padded":
        # the reason: the C library connects to this very address when given the name
        assert socket.inet_aton(written) == address.packed
    # (a zero-padded octet, "010", is octal to the C library and decimal to others: worse still)
    if written == str(address):
        assert parse_url(f"http://{written}/").address == address  # already canonical
        return
    with pytest.raises(UrlInvalid, match="four decimal numbers"):
        parse_url(f"http://{written}/")


@given(ipv4s)
def test_the_canonical_form_of_every_ipv4_address_parses_to_that_address(
    address: ipaddress.IPv4Address,
) -> None:
    assert parse_url(f"http://{address}:8080/hook").address == address


@given(ipv6s)
def test_every_ipv6_literal_parses_to_that_address(address: ipaddress.IPv6Address) -> None:
    parsed = parse_url(f"https://[{address.exploded.upper()}]/")
    assert parsed.address == address
    assert parse_url(parsed.url) == parsed


def test_credentials_in_stored_urls_are_hidden_when_shown() -> None:
    assert without_credentials("http://alice:s3cret@hooks.example/x@y") == "http://***@hooks.example/x@y"
    assert without_credentials("http://hooks.example/a@b?c@d") == "http://hooks.example/a@b?c@d"


# --- addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "cls"),
    [
        ("169.254.169.254", AddressClass.CLOUD_METADATA),
        ("169.254.170.2", AddressClass.CLOUD_METADATA),
        ("100.100.100.200", AddressClass.CLOUD_METADATA),
        ("192.0.0.192", AddressClass.CLOUD_METADATA),
        ("fd00:ec2::254", AddressClass.CLOUD_METADATA),
        ("::ffff:169.254.169.254", AddressClass.CLOUD_METADATA),
        ("64:ff9b::169.254.169.254", AddressClass.CLOUD_METADATA),
        ("2002:a9fe:a9fe::1", AddressClass.CLOUD_METADATA),
        ("169.254.1.1", AddressClass.LINK_LOCAL),
        ("fe80::1", AddressClass.LINK_LOCAL),
        ("0.0.0.0", AddressClass.UNSPECIFIED),
        ("0.1.2.3", AddressClass.UNSPECIFIED),
        ("::", AddressClass.UNSPECIFIED),
        ("224.0.0.1", AddressClass.MULTICAST),
        ("ff02::1", AddressClass.MULTICAST),
        ("255.255.255.255", AddressClass.BROADCAST),
        ("240.0.0.1", AddressClass.RESERVED),
        ("192.0.2.1", AddressClass.RESERVED),
        ("2001:db8::1", AddressClass.RESERVED),
        ("2001::1", AddressClass.RESERVED),  # Teredo
        ("::169.254.169.254", AddressClass.RESERVED),  # IPv4-compatible, deprecated
        ("::127.0.0.1", AddressClass.RESERVED),
        ("fec0::1", AddressClass.RESERVED),
        ("64:ff9b:1::a", AddressClass.RESERVED),
        ("4000::1", AddressClass.RESERVED),  # not global unicast space
        ("127.0.0.1", AddressClass.LOOPBACK),
        ("127.255.0.9", AddressClass.LOOPBACK),
        ("::1", AddressClass.LOOPBACK),
        ("::ffff:127.0.0.1", AddressClass.LOOPBACK),
        ("10.1.2.3", AddressClass.PRIVATE),
        ("172.31.255.255", AddressClass.PRIVATE),
        ("192.168.0.1", AddressClass.PRIVATE),
        ("fd12:3456::1", AddressClass.PRIVATE),
        ("::ffff:10.0.0.1", AddressClass.PRIVATE),
        ("100.64.0.1", AddressClass.SHARED),
        ("8.8.8.8", AddressClass.PUBLIC),
        ("172.32.0.1", AddressClass.PUBLIC),
        ("2606:4700::1111", AddressClass.PUBLIC),
        ("::ffff:8.8.8.8", AddressClass.PUBLIC),
    ],
)
def test_addresses_are_classified(address: str, cls: AddressClass) -> None:
    assert classify(ipaddress.ip_address(address)) is cls


@given(ipv4s, st.sampled_from(IPV6_FORMS))
def test_an_ipv4_address_inside_ipv6_is_judged_as_the_ipv4_address(
    address: ipaddress.IPv4Address, form: Callable[[ipaddress.IPv4Address], ipaddress.IPv6Address]
) -> None:
    wrapped = form(address)
    assert embedded_ipv4(wrapped) == address
    assert classify(wrapped) is classify(address)
    policy = EgressPolicy(vigil_port=8080)
    for port in (80, 8080):
        assert policy.refusal(wrapped, port) == policy.refusal(address, port)


@given(addresses)
def test_nothing_python_calls_non_global_is_public(address: IPAddress) -> None:
    if embedded_ipv4(address) is None and not address.is_global:
        assert classify(address) is not AddressClass.PUBLIC


@given(addresses, st.lists(st.sampled_from(ALLOW_ALL + parse_networks("169.254.0.0/16,fe80::/10"))))
def test_no_allowed_network_opens_link_local_metadata_or_reserved_addresses(
    address: IPAddress, allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> None:
    cls = classify(address)
    refusal = EgressPolicy(tuple(allowed)).refusal(address, 443)
    if cls in ALWAYS_REFUSED:
        assert refusal == cls.value
    elif cls is AddressClass.PUBLIC:
        assert refusal is None


@given(addresses)
def test_loopback_and_private_addresses_need_an_allowed_network(address: IPAddress) -> None:
    cls = classify(address)
    closed = EgressPolicy(allowed=()).refusal(address, 443)
    opened = EgressPolicy(allowed=ALLOW_ALL).refusal(address, 443)
    if cls in ALLOWABLE:
        assert (closed, opened) == (cls.value, None)


def test_the_default_allows_loopback_only() -> None:
    policy = EgressPolicy.from_settings(Settings())
    for allowed in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"):
        assert policy.refusal(ipaddress.ip_address(allowed), 9000) is None
    for refused in ("10.0.0.1", "192.168.1.1", "172.16.0.1", "100.64.0.1", "fd00::1"):
        assert policy.refusal(ipaddress.ip_address(refused), 9000) == classify(ipaddress.ip_address(refused))


def test_an_allowed_network_opens_only_itself() -> None:
    policy = EgressPolicy(parse_networks("127.0.0.0/8, 10.20.0.0/16"))
    assert policy.refusal(ipaddress.ip_address("10.20.30.40"), 80) is None
    assert policy.refusal(ipaddress.ip_address("::ffff:10.20.30.40"), 80) is None
    assert policy.refusal(ipaddress.ip_address("10.21.0.1"), 80) == "private"
    assert policy.refusal(ipaddress.ip_address("169.254.169.254"), 80) == "cloud_metadata"


def test_vigils_own_port_is_refused_on_loopback_and_on_the_address_it_listens_on() -> None:
    on_loopback = EgressPolicy.from_settings(Settings(port=8080))
    assert on_loopback.refusal(ipaddress.ip_address("127.0.0.1"), 8080) == VIGIL_ITSELF
    assert on_loopback.refusal(ipaddress.ip_address("::1"), 8080) == VIGIL_ITSELF
    assert on_loopback.refusal(ipaddress.ip_address("::ffff:127.0.0.2"), 8080) == VIGIL_ITSELF
    assert on_loopback.refusal(ipaddress.ip_address("127.0.0.1"), 8081) is None
    on_private = EgressPolicy.from_settings(
        Settings(host="10.0.0.5", port=8080, webhook_allowed_networks="10.0.0.0/8")
    )
    assert on_private.refusal(ipaddress.ip_address("10.0.0.5"), 8080) == VIGIL_ITSELF
    assert on_private.refusal(ipaddress.ip_address("10.0.0.6"), 8080) is None


def test_a_host_is_refused_when_any_of_its_addresses_is() -> None:
    answers = {"mixed.invalid": ["127.0.0.1", "10.0.0.1"], "loop.invalid": ["127.0.0.1", "::1"]}
    policy = EgressPolicy(
        resolver=lambda host, _port: [ipaddress.ip_address(a) for a in answers.get(host, [])]
    )
    assert [str(a) for a in policy.addresses("loop.invalid", 80)] == ["127.0.0.1", "::1"]
    with pytest.raises(AddressForbidden) as refused:
        policy.addresses("mixed.invalid", 80)
    assert (refused.value.reason, str(refused.value.address)) == ("private", "10.0.0.1")
    with pytest.raises(HostNotResolved):
        policy.addresses("nothing.invalid", 80)


def test_a_malformed_allowed_networks_setting_stops_the_start() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.1/8' is not a network"):
        Settings(webhook_allowed_networks="127.0.0.0/8,10.0.0.1/8")
    assert parse_networks(" 10.0.0.0/8 , ,fd00::/8") == parse_networks("10.0.0.0/8,fd00::/8")
    assert parse_networks("") == ()


def test_an_empty_allowed_networks_setting_leaves_public_addresses_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIGIL_WEBHOOK_ALLOWED_NETWORKS", "")  # the production recommendation
    policy = EgressPolicy.from_settings(Settings())
    assert policy.allowed == ()
    assert policy.refusal(ipaddress.ip_address("127.0.0.1"), 9000) == "loopback"
    assert policy.refusal(ipaddress.ip_address("::1"), 9000) == "loopback"
    assert policy.refusal(ipaddress.ip_address("8.8.8.8"), 443) is None
