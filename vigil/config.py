"""Settings, from the environment (prefix ``VIGIL_``) or defaults that run on a laptop."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# where outbound requests may go unless an operator allows more (vigil/enforce/egress.py applies it)
DEFAULT_ALLOWED_NETWORKS = "127.0.0.0/8,::1/128"


def parse_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated CIDR networks (``VIGIL_WEBHOOK_ALLOWED_NETWORKS``); raises ValueError."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=True))
        except ValueError as exc:
            raise ValueError(f"{part!r} is not a network in CIDR notation, e.g. 10.0.0.0/8 ({exc})") from None
    return tuple(networks)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/vigil.db",
        description="SQLAlchemy URL; SQLite by default, postgresql+psycopg://... for PostgreSQL",
    )
    # 20 processes x (3 + 1) = 80 connections: inside PostgreSQL's default max_connections of 100
    database_pool_size: int = Field(
        default=3, ge=1, le=100, description="PostgreSQL connections each process keeps open"
    )
    database_max_overflow: int = Field(
        default=1,
        ge=0,
        le=100,
        description="PostgreSQL connections a process may open beyond its pool at peaks",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)

    # operating: metrics, logs, shutdown (docs/deployment.md, "Operating: metrics, logs, readiness")
    metrics: bool = Field(
        default=True, description="serve Prometheus metrics at /metrics (counts only, no key)"
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="text for a terminal; json: one object per line for a log shipper"
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        default="warning", description="info adds uvicorn's line per request (the access log)"
    )
    shutdown_grace_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="on SIGTERM, how long requests in flight may take to finish"
    )
    shutdown_drain_seconds: float = Field(
        default=0.0,
        ge=0,
        le=300,
        description="on SIGTERM, how long to keep serving with /readyz answering 503 before closing the "
        "listener, so that a load balancer stops sending new requests first",
    )

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value  # INFO and info alike

    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, description="largest accepted request body")
    max_batch_items: int = Field(default=1000, ge=1, le=10_000)
    max_media_bytes: int = Field(default=4 * 1024 * 1024, ge=1, description="largest inline media item")

    pdq_quality_threshold: int = Field(
        default=50, ge=0, le=100, description="PDQ hashes of lower quality are not matched"
    )

    text_classifier: bool = Field(default=True, description="classify the text of every item")
    text_second_stage: bool = Field(
        default=True,
        description="judge every text with the sentence-embedding stage too, when the ml extra is installed",
    )

    queues_file: str | None = Field(
        default=None, description="review queues and routing rules (YAML); default: vigil/review/queues.yaml"
    )
    strike_rules_file: str | None = Field(
        default=None,
        description="strike window and thresholds (YAML); default: the default policy pack's strikes.yaml",
    )
    qa_sample_rate: float = Field(
        default=0.01,
        ge=0.0,
        le=1.0,
        description="share of restrictions decided by machine alone that open a QA case for a person to check",
    )

    legal_file: str | None = Field(
        default=None,
        description="jurisdictions, safeguards and content locations for authority orders (YAML); default: vigil/intake/legal.yaml",
    )
    contact_file: str | None = Field(
        default=None,
        description="the single points of contact published at /contact (YAML); default: vigil/intake/contact.yaml",
    )
    order_watch: bool = Field(
        default=True, description="answer executed orders and escalate running clocks inside `vigil serve`"
    )
    order_watch_seconds: float = Field(
        default=1.0, gt=0, description="how often open orders' clocks and confirmed effects are checked"
    )

    dsa_database_url: str | None = Field(
        default=None,
        description="the DSA Transparency Database API base, e.g. https://transparency.dsa.ec.europa.eu/api/v1; "
        "unset: statements are kept and exported but not submitted",
    )
    dsa_database_token: str | None = Field(default=None, description="the platform's bearer token for it")
    dsa_database_batch: int = Field(default=100, ge=1, le=100, description="statements per POST /statements")
    dsa_database_poll_seconds: float = Field(default=5.0, gt=0)
    audit_seal_seconds: float = Field(
        default=0.25,
        gt=0,
        description="PostgreSQL: how often `vigil serve` seals appended audit events into the chain",
    )

    evidence_keys: str | None = Field(
        default=None,
        description="evidence encryption keys as 'id:base64(32 bytes)' separated by commas; the first encrypts, "
        "all decrypt (rotation)",
    )
    evidence_retention_days: int = Field(default=365, ge=1, le=3650)

    hotline_url: str | None = Field(
        default=None, description="the CyberTipline API base, e.g. https://exttest.cybertip.org/ispws (test)"
    )
    hotline_username: str | None = None
    hotline_password: str | None = None
    hotline_poll_seconds: float = Field(default=5.0, gt=0)
    hotline_reporter_file: str | None = Field(
        default=None,
        description="who reports to the hotline (YAML: service, reporting_person, ...; see docs/transparency.md); "
        "required when hotline_url is set",
    )
    hotline_max_attempts: int = Field(
        default=24, ge=1, description="attempts before a hotline report is marked failed (about a day)"
    )

    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_max_attempts: int = Field(default=15, ge=1, description="about three hours of retries")
    webhook_backoff_base_seconds: float = Field(default=2.0, gt=0)
    webhook_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_poll_seconds: float = Field(default=0.5, gt=0)
    webhook_deliver: bool = Field(default=True, description="run the delivery loop inside `vigil serve`")
    webhook_allowed_networks: str = Field(
        default=DEFAULT_ALLOWED_NETWORKS,
        description="comma-separated CIDR networks of loopback, private (RFC 1918, fc00::/7) or shared "
        "(100.64.0.0/10) addresses that webhooks, the DSA database and the hotline may reach; link-local, "
        "metadata and other special addresses stay refused whatever this says (docs/deployment.md)",
    )

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # raises ValueError, naming the part that is not a network
        return value

    retro_matching: bool = Field(default=True, description="run retroactive matching inside `vigil serve`")

    # stream intake: `vigil worker` consumes content from NATS JetStream (docs/stream.md)
    nats_url: str | None = Field(
        default=None,
        description="the NATS server(s), e.g. nats://127.0.0.1:4222 (comma-separated for a cluster); "
        "unset: no stream, and `vigil worker` refuses to start",
    )
    stream_name: str = Field(
        default="VIGIL_ITEMS", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the JetStream stream of items"
    )
    stream_items_subject: str = Field(
        default="vigil.items.>",
        description="what platforms publish items on: vigil.items.<shard or platform>",
    )
    stream_results_prefix: str = Field(
        default="vigil.decisions",
        description="decisions are published on <prefix>.<the item subject's last tokens>",
    )
    stream_dead_subject: str = Field(
        default="vigil.dead", description="items that cannot be decided, with the reason (kept in a stream)"
    )
    stream_consumer: str = Field(
        default="vigil-workers",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="the durable pull consumer all workers share",
    )
    # measured (bench/stream_batch.py, docs/stream.md): 32 decides ~2.5x the items a second of batches of
    # 1, and larger batches gain little while a crash or a poison item costs more redeliveries
    stream_batch: int = Field(
        default=32, ge=1, le=1000, description="items a worker fetches and decides at once"
    )
    stream_max_deliveries: int = Field(
        default=5, ge=1, le=1000, description="deliveries of an item that fails before it is dead-lettered"
    )
    stream_ack_wait_seconds: float = Field(
        default=30.0, ge=1, le=3600, description="an unacknowledged item is redelivered after this long"
    )

    # organisation sign-in to the consoles (OpenID Connect); see docs/console.md
    oidc_issuer: str | None = Field(
        default=None,
        description="the OpenID Connect provider's issuer URL (https; http only on a loopback address); "
        "unset: the consoles take API keys only",
    )
    oidc_client_id: str | None = Field(default=None, description="Vigil's client id at the provider")
    oidc_client_secret: str | None = Field(
        default=None, description="Vigil's client secret at the provider; unset: a public client (PKCE alone)"
    )
    oidc_redirect_url: str | None = Field(
        default=None,
        description="the callback URL registered at the provider; default: <the request's base URL>"
        "/console/login/oidc/callback",
    )
    oidc_provider_name: str | None = Field(
        default=None, description="shown as 'Sign in with <name>'; default: the issuer's host"
    )
    oidc_roles_file: str | None = Field(
        default=None,
        description="maps the provider's groups to Vigil roles (YAML); required with oidc_issuer",
    )
    oidc_scopes: str = Field(
        default="openid profile email", description="scopes asked for; add the one that releases groups"
    )

    # the console sign-in limit; see docs/console.md
    sign_in_window_seconds: int = Field(
        default=300, ge=10, le=86_400, description="the window in which failed sign-ins are counted"
    )
    sign_in_client_failures: int = Field(
        default=10, ge=1, le=100_000, description="failed sign-ins one client address may make in a window"
    )
    sign_in_key_failures: int = Field(
        default=20, ge=1, le=100_000, description="failed sign-ins with one API key's id in a window"
    )
