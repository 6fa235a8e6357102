"""The pinned transport over real sockets on loopback: it connects to the address it checked, by
the name's certificate, and refuses before connecting; the DSA database and hotline clients use it.

Names end in ``.invalid`` (RFC 2606), which no DNS resolves: a request that arrives proves it went
to the address the test's resolver gave, with no second lookup.
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.egress_fixtures import Listener, LoopbackOnly
from vigil.enforce.egress import AddressForbidden, EgressPolicy, HostNotResolved, IPAddress, PinnedTransport
from vigil.enforce.hotline import HotlineClient, HotlineError
from vigil.transparency.dsa_database import DsaDatabaseClient


class Names:
    """A resolver the test controls: name -> addresses, and every lookup it was asked for."""

    def __init__(self, **answers: list[str]) -> None:
        self.answers = {name.replace("_", "."): addresses for name, addresses in answers.items()}
        self.lookups: list[str] = []

    def __call__(self, host: str, _port: int) -> list[IPAddress]:
        self.lookups.append(host)
        return [ipaddress.ip_address(a) for a in self.answers.get(host, [])]


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections alive, so reuse can be seen

    def do_GET(self) -> None:
        body = self.headers["Host"].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def client(names: Names, network: LoopbackOnly, **policy: Any) -> httpx.Client:
    transport = PinnedTransport(EgressPolicy(resolver=names, **policy), network=network)
    return httpx.Client(transport=transport, timeout=5)


def test_a_name_is_connected_to_at_the_address_it_was_checked_at(server: ThreadingHTTPServer) -> None:
    port = server.server_address[1]
    names, network = Names(hook_invalid=["127.0.0.1"]), LoopbackOnly()
    with client(names, network) as http:
        answer = http.get(f"http://hook.invalid:{port}/")
        again = http.get(f"http://hook.invalid:{port}/")  # the kept-alive connection: no new lookup

    assert (answer.status_code, answer.text) == (200, f"hook.invalid:{port}")
    assert again.status_code == 200
    assert names.lookups == ["hook.invalid"]
    assert network.connects == [("127.0.0.1", port)]


def test_the_next_address_is_tried_when_one_refuses(server: ThreadingHTTPServer) -> None:
    port = server.server_address[1]
    names, network = Names(hook_invalid=["127.0.0.2", "127.0.0.1"]), LoopbackOnly()
    with client(names, network) as http:
        assert http.get(f"http://hook.invalid:{port}/").status_code == 200
    assert network.connects == [("127.0.0.2", port), ("127.0.0.1", port)]


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        (["169.254.169.254"], "cloud_metadata"),
        (["127.0.0.1", "169.254.169.254"], "cloud_metadata"),  # one bad answer among good ones
        (["::ffff:169.254.169.254"], "cloud_metadata"),
        (["fe80::1"], "link_local"),
        (["10.0.0.1"], "private"),
        (["0.0.0.0"], "unspecified"),
        (["224.0.0.1"], "multicast"),
    ],
)
def test_a_forbidden_answer_is_refused_before_any_connection(
    server: ThreadingHTTPServer, answers: list[str], reason: str
) -> None:
    names, network = Names(hook_invalid=answers), LoopbackOnly()
    with client(names, network) as http, pytest.raises(AddressForbidden) as refused:
        http.get(f"http://hook.invalid:{server.server_address[1]}/")
    assert refused.value.reason == reason
    assert network.connects == []


def test_a_literal_forbidden_address_is_refused_before_any_connection() -> None:
    names, network = Names(), LoopbackOnly()
    with client(names, network) as http:
        for url in (
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/",
            "http://10.0.0.1/",
        ):
            with pytest.raises(AddressForbidden):
                http.get(url)
    assert (names.lookups, network.connects) == ([], [])


def test_a_name_that_resolves_to_nothing_is_not_connected_to() -> None:
    names, network = Names(), LoopbackOnly()
    with client(names, network) as http, pytest.raises(HostNotResolved):
        http.get("http://nowhere.invalid/")
    assert network.connects == []


def test_vigils_own_port_is_refused_before_any_connection() -> None:
    listener = Listener()
    try:
        with (
            client(Names(), LoopbackOnly(), vigil_port=listener.port) as http,
            pytest.raises(AddressForbidden) as refused,
        ):
            http.get(f"http://127.0.0.1:{listener.port}/v1/content")
        assert refused.value.reason == "vigil_itself"
        assert listener.accepted == 0
    finally:
        listener.close()


# --- TLS: the certificate is verified against the name, not the address connected to --------------


def _certificate(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throw-away CA and a server certificate for hook.invalid: (server context, client context)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vigil test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hook.invalid")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hook.invalid")]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = tmp_path / "server.pem"
    chain.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    serving = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    serving.load_cert_chain(chain)
    trusting = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return serving, trusting


def test_https_verifies_the_certificate_against_the_name_while_connecting_by_address(
    server: ThreadingHTTPServer, tmp_path: Path
) -> None:
    serving, trusting = _certificate(tmp_path)
    server.socket = serving.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    names = Names(hook_invalid=["127.0.0.1"], other_invalid=["127.0.0.1"])
    network = LoopbackOnly()
    transport = PinnedTransport(EgressPolicy(resolver=names), network=network, ssl_context=trusting)
    with httpx.Client(transport=transport, timeout=5) as http:
        assert http.get(f"https://hook.invalid:{port}/").text == f"hook.invalid:{port}"
        # the same server, reached through a name its certificate does not carry, is refused
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            http.get(f"https://other.invalid:{port}/")
    assert network.connects == [("127.0.0.1", port), ("127.0.0.1", port)]


# --- the other outbound clients -------------------------------------------------------------------


def test_the_dsa_database_client_is_held_to_the_policy_and_counts_the_refusal_as_unsent() -> None:
    listener = Listener()
    try:
        refusing = EgressPolicy(allowed=())  # not even loopback
        database = DsaDatabaseClient(f"http://127.0.0.1:{listener.port}/api/v1", "token", 5, egress=refusing)
        answer = database.submit([{"puid": "dec_1"}])
        database.close()
        assert answer.status is None
        assert answer.unsure is False  # certainly not sent: retried without a look-up first
        assert answer.error.startswith("AddressForbidden: ")
        assert listener.accepted == 0
    finally:
        listener.close()


def test_the_hotline_client_is_held_to_the_policy() -> None:
    listener = Listener()
    try:
        hotline = HotlineClient(
            f"http://127.0.0.1:{listener.port}/ispws", "user", "password", 5, egress=EgressPolicy(allowed=())
        )
        with pytest.raises(HotlineError, match=r"could not be reached \(AddressForbidden\)"):
            hotline.submit("<report/>")
        assert listener.accepted == 0
    finally:
        listener.close()
