"""Where Vigil may send requests: one egress policy for webhooks, the DSA database and the hotline.

Why: a platform key registers webhook URLs, and the delivery loop then connects wherever they
point. Unchecked, that makes Vigil a proxy into its own network: a URL naming the cloud metadata
service (169.254.169.254) reaches the machine's credentials, and the deliveries list, with a
status and an error per URL, becomes a port scanner of everything Vigil can reach.

The policy has four parts, all here:

- ``parse_url``, a strict parser. Whatever two parsers could read differently is refused, not
  normalised: numeric host forms other than four decimal octets (``2852039166``, ``0x7f.1``,
  ``0177.0.0.1``, ``127.1``: libc and browsers read them as addresses, others as names),
  backslashes, whitespace and control characters, ``user:password@``, IPv6 zone ids, fragments.
  The result is checked again against httpx's own parser, which is what sends.
- ``classify``, what an IP address is, by longest-prefix match over the IANA special-purpose
  registries, after unwrapping an IPv4 address carried inside an IPv6 one (mapped, SIIT, NAT64,
  6to4), so ``::ffff:169.254.169.254`` is as link-local as ``169.254.169.254``.
- ``EgressPolicy``, the decision: link-local, cloud metadata, unspecified, multicast, broadcast and
  reserved addresses are always refused; loopback, private and shared (CGNAT) addresses only
  inside the networks an operator allows (``VIGIL_WEBHOOK_ALLOWED_NETWORKS``); Vigil's own port on
  loopback never. A host name is allowed only when every address it resolves to is.
- ``PinnedTransport``, an httpx transport whose connections resolve and check the host themselves
  and then connect to a checked address. The address checked is the address connected to: a
  second DNS answer (DNS rebinding) never comes into it. TLS still verifies the certificate
  against the host name, which httpcore sends as SNI; the connection pool is keyed by host name,
  so a connection is never shared between two names that resolve to one address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpcore
import httpx
import idna

from vigil.config import DEFAULT_ALLOWED_NETWORKS, Settings, parse_networks

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> the addresses the host resolves to; raises OSError when it resolves to none
Resolver = Callable[[str, int], Sequence[IPAddress]]

MAX_URL_LENGTH = 2000
_DEFAULT_PORTS = {"http": 80, "https": 443}


# --- URLs ---------------------------------------------------------------------------------------


class UrlInvalid(ValueError):
    """A URL Vigil will not send to, whatever it resolves to; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class OutboundUrl:
    """A URL that passed ``parse_url``: its parts, and ``url``, the one form Vigil stores and sends."""

    scheme: str
    host: str  # lower-case ASCII (IDNA), without brackets for IPv6
    port: int
    explicit_port: bool
    target: str  # path and query, never empty
    address: IPAddress | None  # the host, when it is an IP literal

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if isinstance(self.address, ipaddress.IPv6Address) else self.host
        port = f":{self.port}" if self.explicit_port else ""
        return f"{self.scheme}://{host}{port}{self.target}"


_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<authority>[^/?#]*)"
    r"(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?(?P<fragment>#.*)?",
    re.DOTALL,
)
_IPV6_AUTHORITY = re.compile(r"\[(?P<host>[^\]]*)\](?::(?P<port>[^:]*))?")
_NAME_AUTHORITY = re.compile(r"(?P<host>[^:\[\]]*)(?::(?P<port>[^:]*))?")
_PORT = re.compile(r"[0-9]{1,5}")
# RFC 3986 pchar, "/" and "?" (no "#": fragments are refused before this)
_TARGET = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?")
_DECIMAL_OCTET = re.compile(r"0|[1-9][0-9]{0,2}")
# the WHATWG URL standard reads a host whose last label is a number as an IPv4 address
_NUMERIC_LABEL = re.compile(r"0[xX][0-9A-Fa-f]*|[0-9]+")


def _visible(char: str) -> bool:
    """Not whitespace, not a control, format, unassigned or private-use character, in any script."""
    return char.isprintable() and not char.isspace() and unicodedata.category(char)[0] not in "CZ"


def parse_url(text: str) -> OutboundUrl:
    """Read ``text`` as an http(s) URL Vigil may send to, or raise UrlInvalid saying why not.

    Nothing of the URL is quoted in the error: it may hold a password.
    """
    if len(text) > MAX_URL_LENGTH:
        raise UrlInvalid(f"must be at most {MAX_URL_LENGTH} characters")
    if not all(_visible(c) for c in text):
        raise UrlInvalid("must not contain whitespace or control characters (percent-encode them)")
    if "\\" in text:
        raise UrlInvalid("must not contain a backslash")
    match = _URL.fullmatch(text)
    if match is None:
        raise UrlInvalid("must be an absolute http:// or https:// URL, e.g. https://hooks.example.com/vigil")
    scheme = match["scheme"].lower()
    if scheme not in _DEFAULT_PORTS:
        raise UrlInvalid("must use the http or https scheme")
    if match["fragment"] is not None:
        raise UrlInvalid("must not have a fragment (#...)")
    authority = match["authority"]
    if "@" in authority:
        raise UrlInvalid("must not contain credentials (user:password@); authenticate with the signature")
    host, address, port_text = _host(authority)
    port = _DEFAULT_PORTS[scheme]
    if port_text is not None:
        if not _PORT.fullmatch(port_text) or not 1 <= int(port_text) <= 65535:
            raise UrlInvalid("port must be a number from 1 to 65535")
        port = int(port_text)
    path, query = match["path"] or "/", match["query"]
    target = path if query is None else f"{path}?{query}"
    if not _TARGET.fullmatch(target):
        raise UrlInvalid(
            "path and query may hold only the characters RFC 3986 allows; percent-encode the others"
        )
    parsed = OutboundUrl(scheme, host, port, port_text is not None, target, address)
    if len(parsed.url) > MAX_URL_LENGTH:  # the stored form: an IDNA host is longer than typed
        raise UrlInvalid(f"must be at most {MAX_URL_LENGTH} characters (with its host in ASCII)")
    _same_for_httpx(text, parsed)
    return parsed


def _host(authority: str) -> tuple[str, IPAddress | None, str | None]:
    if authority.startswith("["):
        bracketed = _IPV6_AUTHORITY.fullmatch(authority)
        if bracketed is None:
            raise UrlInvalid("an IPv6 host is written in brackets, e.g. http://[2001:db8::1]:8443/")
        if "%" in bracketed["host"]:
            raise UrlInvalid("IPv6 zone ids (%...) are not accepted")
        try:
            v6 = ipaddress.IPv6Address(bracketed["host"])
        except ValueError:
            raise UrlInvalid("the IPv6 host is not a valid address") from None
        return v6.compressed, v6, bracketed["port"]
    named = _NAME_AUTHORITY.fullmatch(authority)
    if named is None:
        raise UrlInvalid("the host is not valid (an IPv6 address needs brackets)")
    name, port = named["host"], named["port"]
    if not name:
        raise UrlInvalid("must name a host")
    if "%" in name:
        raise UrlInvalid("the host must not be percent-encoded")
    try:
        ascii_name = name.lower() if name.isascii() else idna.encode(name.lower()).decode("ascii")
    except idna.IDNAError:
        raise UrlInvalid("the host is not a valid internationalised domain name") from None
    labels = ascii_name.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # one trailing dot: the name is fully qualified
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        dotted = _ipv4_host(labels, fully_qualified=ascii_name.endswith("."))
        return dotted, ipaddress.IPv4Address(dotted), port
    if len(ascii_name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UrlInvalid("the host is not a valid DNS name (letters, digits, '-', '.')")
    return ascii_name, None, port


def _ipv4_host(labels: list[str], fully_qualified: bool) -> str:
    """An IPv4 host, accepted only as four decimal octets without leading zeros (and no final dot)."""
    octets = len(labels) == 4 and all(_DECIMAL_OCTET.fullmatch(o) and int(o) <= 255 for o in labels)
    if fully_qualified or not octets:
        raise UrlInvalid(
            "an IPv4 host must be written as four decimal numbers from 0 to 255 without leading "
            "zeros, e.g. 192.0.2.10 (hexadecimal, octal, single-number and shortened forms are refused)"
        )
    return ".".join(labels)


def _same_for_httpx(text: str, parsed: OutboundUrl) -> None:
    """httpx sends the request: where its reading of the URL differs from ours, refuse the URL."""
    try:
        theirs = httpx.URL(text)
    except httpx.InvalidURL:
        raise UrlInvalid("is not a URL httpx can send to") from None
    port = theirs.port or _DEFAULT_PORTS.get(theirs.scheme, 0)
    host = theirs.raw_host.decode("ascii").lower()
    if parsed.address is not None:
        try:
            same_host = ipaddress.ip_address(host) == parsed.address
        except ValueError:
            same_host = False
    else:
        same_host = host == parsed.host
    if not (theirs.scheme == parsed.scheme and same_host and port == parsed.port):
        raise UrlInvalid("is read differently by different URL parsers; write it plainly")


def without_credentials(url: str) -> str:
    """``url`` for showing or logging, its ``user:password@`` (if any, in rows older than
    ``parse_url``) replaced by ``***@``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority = rest[:end]
    if "@" not in authority:
        return url
    return f"{scheme}://***@{authority.rpartition('@')[2]}{rest[end:]}"


# --- addresses ----------------------------------------------------------------------------------


class AddressClass(StrEnum):
    """What an IP address is, for the egress policy."""

    PUBLIC = "public"
    LOOPBACK = "loopback"
    PRIVATE = "private"  # RFC 1918, unique local fc00::/7
    SHARED = "shared"  # carrier-grade NAT, 100.64.0.0/10 (RFC 6598)
    LINK_LOCAL = "link_local"
    CLOUD_METADATA = "cloud_metadata"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    BROADCAST = "broadcast"
    RESERVED = "reserved"  # documentation, benchmarking, deprecated, future use, tunnels


# classes an operator may open, network by network; the rest, but PUBLIC, stay closed whatever it says
ALLOWABLE = frozenset({AddressClass.LOOPBACK, AddressClass.PRIVATE, AddressClass.SHARED})

_C = AddressClass
# The special-purpose blocks (IANA IPv4 and IPv6 special-purpose address registries), plus the
# metadata services of the large clouds. The most specific block containing an address decides,
# so a metadata address inside a private or shared block is still a metadata address.
_SPECIAL: tuple[tuple[str, AddressClass], ...] = (
    ("0.0.0.0/8", _C.UNSPECIFIED),  # "this network"; Linux connects 0.0.0.0 to the local host
    ("10.0.0.0/8", _C.PRIVATE),
    ("100.64.0.0/10", _C.SHARED),
    ("100.100.100.200/32", _C.CLOUD_METADATA),  # Alibaba Cloud
    ("127.0.0.0/8", _C.LOOPBACK),
    ("169.254.0.0/16", _C.LINK_LOCAL),
    ("169.254.169.254/32", _C.CLOUD_METADATA),  # AWS, Google, Azure, OpenStack, DigitalOcean, ...
    ("169.254.170.2/32", _C.CLOUD_METADATA),  # AWS ECS task credentials
    ("172.16.0.0/12", _C.PRIVATE),
    ("192.0.0.0/24", _C.RESERVED),  # IETF protocol assignments
    ("192.0.0.192/32", _C.CLOUD_METADATA),  # Oracle Cloud
    ("192.0.2.0/24", _C.RESERVED),  # documentation
    ("192.88.99.0/24", _C.RESERVED),  # 6to4 relay anycast, deprecated
    ("192.168.0.0/16", _C.PRIVATE),
    ("198.18.0.0/15", _C.RESERVED),  # benchmarking
    ("198.51.100.0/24", _C.RESERVED),  # documentation
    ("203.0.113.0/24", _C.RESERVED),  # documentation
    ("224.0.0.0/4", _C.MULTICAST),
    ("240.0.0.0/4", _C.RESERVED),
    ("255.255.255.255/32", _C.BROADCAST),
    ("::/128", _C.UNSPECIFIED),
    ("::1/128", _C.LOOPBACK),
    ("64:ff9b:1::/48", _C.RESERVED),  # local-use NAT64: where the IPv4 sits depends on the network
    ("100::/64", _C.RESERVED),  # discard-only
    ("2001::/23", _C.RESERVED),  # IETF protocol assignments (the few global ones hold no webhooks)
    ("2001::/32", _C.RESERVED),  # Teredo tunnels
    ("2001:2::/48", _C.RESERVED),  # benchmarking
    ("2001:10::/28", _C.RESERVED),  # ORCHID, deprecated
    ("2001:20::/28", _C.RESERVED),  # ORCHIDv2
    ("2001:db8::/32", _C.RESERVED),  # documentation
    ("3fff::/20", _C.RESERVED),  # documentation
    ("5f00::/16", _C.RESERVED),  # SRv6 segment identifiers
    ("fc00::/7", _C.PRIVATE),  # unique local
    ("fd00:ec2::/32", _C.CLOUD_METADATA),  # AWS: metadata fd00:ec2::254, DNS, NTP
    ("fe80::/10", _C.LINK_LOCAL),
    ("fec0::/10", _C.RESERVED),  # site-local, deprecated
    ("ff00::/8", _C.MULTICAST),
)
_BLOCKS: tuple[tuple[IPNetwork, AddressClass], ...] = tuple(
    sorted(
        ((ipaddress.ip_network(net), cls) for net, cls in _SPECIAL),
        key=lambda block: block[0].prefixlen,
        reverse=True,
    )
)
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# IPv6 forms that carry an IPv4 address in their last 32 bits, and reach it
_V4_IN_LAST_32 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::ffff:0:0/96",  # IPv4-mapped: a dual-stack socket connects to the IPv4 address itself
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "64:ff9b::/96",  # NAT64, well-known prefix
    )
)
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, SIIT, NAT64, 6to4), if it does.

    IPv4-compatible addresses (``::a.b.c.d``, deprecated) are not unwrapped: they are reserved, and
    refused, whatever they carry.
    """
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if any(address in net for net in _V4_IN_LAST_32):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    return None


def effective(address: IPAddress) -> IPAddress:
    """The address a connection to ``address`` really reaches, as far as the address itself tells."""
    return embedded_ipv4(address) or address


def classify(address: IPAddress) -> AddressClass:
    """What ``address`` is, judged by the address it reaches (see ``effective``)."""
    reached = effective(address)
    for network, cls in _BLOCKS:
        if reached.version == network.version and reached in network:
            return cls
    if isinstance(reached, ipaddress.IPv6Address) and reached not in _GLOBAL_UNICAST:
        return AddressClass.RESERVED  # unassigned space, and IPv4-compatible ::/96
    return AddressClass.PUBLIC


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the operating system resolves ``host`` to, in its order of preference."""
    found: list[IPAddress] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(sockaddr[0])
            if address not in found:
                found.append(address)
    return found


# --- the policy ---------------------------------------------------------------------------------


class EgressError(httpx.ConnectError):
    """Vigil did not connect, so nothing was sent. A ConnectError, so that callers which retry what
    certainly was not sent (the DSA database client) treat it as such."""

    category = "refused_by_policy"


class AddressForbidden(EgressError):
    """The host is, or resolves to, an address the egress policy refuses."""

    def __init__(self, host: str, address: IPAddress, reason: str) -> None:
        super().__init__(f"{host} is or resolves to {address}, which is {reason.replace('_', ' ')}")
        self.host = host
        self.address = address
        self.reason = reason


class HostNotResolved(EgressError):
    """The host name resolves to no address."""

    category = "name_not_resolved"

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} does not resolve to any address")
        self.host = host


VIGIL_ITSELF = "vigil_itself"
_WILDCARDS = (ipaddress.IPv4Address(0), ipaddress.IPv6Address(0))  # 0.0.0.0 and ::, listening everywhere


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Which addresses outbound requests may reach; see the module's docstring.

    ``vigil_port`` (and ``vigil_host``, when it is an address) is where this process listens: a
    webhook to it would make Vigil call its own API. With a wildcard host, the machine's other
    addresses on that port are not known here, only loopback is (docs/deployment.md says so).
    """

    allowed: tuple[IPNetwork, ...] = parse_networks(DEFAULT_ALLOWED_NETWORKS)
    vigil_port: int | None = None
    vigil_host: IPAddress | None = None
    resolver: Resolver = system_resolver

    @classmethod
    def from_settings(cls, settings: Settings, resolver: Resolver = system_resolver) -> EgressPolicy:
        try:
            host: IPAddress | None = ipaddress.ip_address(settings.host)
        except ValueError:
            host = None  # a name, such as localhost: loopback is covered by the port rule
        return cls(parse_networks(settings.webhook_allowed_networks), settings.port, host, resolver)

    def refusal(self, address: IPAddress, port: int) -> str | None:
        """Why ``address``:``port`` may not be reached (an AddressClass value or ``vigil_itself``),
        or None when it may."""
        cls = classify(address)
        reached = effective(address)
        own = self.vigil_host
        listens_there = own is not None and own not in _WILDCARDS and reached == effective(own)
        if port == self.vigil_port and (cls is AddressClass.LOOPBACK or listens_there):
            return VIGIL_ITSELF
        if cls is AddressClass.PUBLIC:
            return None
        if cls in ALLOWABLE and any(
            candidate.version == net.version and candidate in net
            for net in self.allowed
            for candidate in (reached, address)
        ):
            return None
        return cls.value

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for ``host``:``port``: all of them allowed, or none at all.

        Raises AddressForbidden when any address the host resolves to is refused (a name that
        resolves to one public and one internal address is refused: either may be the one used),
        and HostNotResolved when it resolves to none.
        """
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            found: Sequence[IPAddress] = [literal]
        else:
            try:
                found = self.resolver(host, port)
            except (OSError, UnicodeError):
                raise HostNotResolved(host) from None
            if not found:
                raise HostNotResolved(host)
        for address in found:
            reason = self.refusal(address, port)
            if reason is not None:
                raise AddressForbidden(host, address, reason)
        return list(found)


# --- the transport ------------------------------------------------------------------------------


class _PinnedBackend(httpcore.NetworkBackend):
    """Opens connections only to addresses the policy has just checked, resolving names itself."""

    def __init__(self, policy: EgressPolicy, network: httpcore.NetworkBackend) -> None:
        self._policy = policy
        self._network = network

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._policy.addresses(host, port)
        deadline = None if timeout is None else time.monotonic() + timeout
        failure: Exception = httpcore.ConnectTimeout(f"no time left to connect to {host}")
        # like socket.create_connection, each address in turn, within the one connect timeout
        for address in addresses:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            try:
                return self._network.connect_tcp(str(address), port, left, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("outbound requests go over TCP only")

    def sleep(self, seconds: float) -> None:
        self._network.sleep(seconds)


# most specific first: the first match is the one raised
_HTTPCORE_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.ProxyError, httpx.ProxyError),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """httpcore's exceptions as httpx's, as httpx's own transport does; EgressError passes as it is."""
    try:
        yield
    except Exception as exc:
        for source, target in _HTTPCORE_ERRORS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport that connects only where ``policy`` allows, to the address it checked.

    Give it to ``httpx.Client(transport=...)``; a client with its own transport also ignores the
    ``HTTP(S)_PROXY`` variables, which would otherwise send requests, and the choice of address,
    to a proxy. ``network`` opens the sockets (httpcore's own backend unless a test gives one);
    ``ssl_context`` verifies servers (httpx's default, the certifi roots, unless given).
    """

    def __init__(
        self,
        policy: EgressPolicy,
        limits: httpx.Limits | None = None,
        network: httpcore.NetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(policy, network or httpcore.SyncBackend()),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = self._pool.handle_request(core_request)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()
