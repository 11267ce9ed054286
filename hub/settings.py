"""Configuration from the environment (12-factor), validated once at start-up."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    environment: Literal["dev", "demo", "test", "production"] = "production"
    database_url: str = "sqlite:///./crisishub.db"
    redis_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Proxies whose X-Forwarded-For/-Proto are believed (addresses or networks, comma list):
    # none by default, so a client cannot pick its own address for the login throttle.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    tile_url: str | None = None
    # The base map (web/basemap.py, README "Base map"): a PMTiles archive (a Protomaps extract,
    # a mapping agency's vector tiles) that the hub serves itself at /basemap.pmtiles with Range
    # requests; unset, the map draws the v1 offline layer (or TILE_URL) as before.
    basemap_pmtiles: str | None = None
    # The wind for a weather anchor (hub/weather/feed.py, README "Weather"): a JSON observation
    # source (Open-Meteo's "current" shape or the hub's own), {lat} and {lon} in it replaced
    # by the anchor's place. Unset: the wind is entered by hand. May hold a key: never logged.
    weather_url: str | None = Field(default=None, repr=False)
    weather_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # Self-registration (BE-Alert, README "Limits"): public writes per client address (a
    # burst, then so many an hour), and confirmation codes sent to one number or address.
    public_writes_burst: int = Field(default=20, ge=1)
    public_writes_per_hour: float = Field(default=60.0, gt=0)
    codes_per_contact_per_hour: int = Field(default=3, ge=1)

    # Per-user write rate (README "Limits"); the size and shape limits live in models/limits.py
    # because the input shapes that enforce them are built at import time.
    post_rate_per_second: float = 5.0
    post_rate_burst: int = 30
    # A replay is at least 1,000 events long (protocol): further behind gets a snapshot.
    replay_limit: int = Field(default=1_000, ge=1_000)
    snapshot_feed_entries: int = 100
    # A client whose outgoing queue grows past this is disconnected; it recovers by seq.
    max_client_queue: int = 1_000
    # "stock": python-socketio's own delivery (a task per recipient), kept so that
    # bench/fanout.py can measure both in one run; "fast" is hub/realtime/fanout.py.
    fanout: Literal["fast", "stock"] = "fast"
    # uvicorn's websocket protocol: the sans-I/O one costs less per frame sent (same wire);
    # "lean" is that one keeping less per connection (hub/realtime/internals.py), the stock
    # sans-I/O one when its libraries do not fit.
    websocket_impl: Literal["lean", "websockets-sansio", "websockets", "wsproto"] = "lean"
    # permessage-deflate, which browsers offer on every websocket: off, as in socket.io's own
    # server. It compresses each message once per socket (zlib, per-connection context), so a
    # message to 1,000 browsers is compressed 1,000 times: docs/performance.md measures it.
    websocket_compression: bool = False

    # Several instances (REDIS_URL): how often each probes its Redis subscription, and how long
    # a killed instance's users stay in presence.
    redis_probe_interval: float = 1.0
    presence_ttl_seconds: float = 15.0

    # Convoys (positions pipeline).
    positions_per_second: float = 4.0
    position_batch_max: int = 500
    # Linger after the first fix of a batch; under load batches fill while the previous commits.
    position_batch_wait_ms: int = 5
    # Fixes waiting for a batch beyond this are refused with `unavailable` (retry), so a flood
    # of trackers cannot grow memory without bound.
    position_queue_max: int = 20_000
    # Faster than any car: a fix implying more than this from the last one is flagged.
    max_vehicle_speed_kmh: float = 300.0
    # GPS noise allowance before the speed check, so two close fixes a second apart pass.
    position_jump_slack_m: float = 100.0
    # After a flagged jump, this many fixes that agree with one another (and not with the
    # track) move the track to them at once; a lone outlier stays flagged (hub/convoys/jumps.py).
    jump_agreeing_fixes: int = Field(default=2, ge=2)
    # Device clocks drift: fixes further in the future than this are refused.
    max_fix_future_s: float = 300.0
    # Alerts (convoy.alert): corridor around the planned route, stop and silence detection.
    off_route_corridor_m: float = 100.0
    stopped_after_s: float = 120.0
    stop_radius_m: float = 25.0
    silent_after_s: float = 60.0
    silent_check_interval_s: float = 5.0
    # ETA speed when the vehicle reports none or stands still (about 43 km/h in town).
    eta_fallback_speed_mps: float = 12.0
    # Uploaded GPX/KML files (tracks and routes).
    max_upload_bytes: int = 5_000_000
    max_track_points: int = 50_000
    # The incident's exports (hub/timeline/record.py): past these the export is refused
    # (too_large). A logbook runs ~40 pages and ~2 s of one core per 1,000 events here.
    export_max_events: int = Field(default=10_000, ge=1)
    export_max_fixes: int = Field(default=100_000, ge=1)

    # TAK (hub/tak/, docs/protocol-additions.md "TAK"): CoT over plain TCP on tak_cot_port
    # (no authentication, as TAK's 8087: bind it to a trusted interface) and over TLS with
    # client certificates signed by tak_tls_ca on tak_tls_port (the deployment for real
    # networks). Both listen on tak_bind; neither is opened unless its port is set.
    tak_cot_port: int | None = Field(default=None, ge=1, le=65_535)
    tak_tls_port: int | None = Field(default=None, ge=1, le=65_535)
    tak_tls_cert: str | None = None
    tak_tls_key: str | None = None
    tak_tls_ca: str | None = None
    tak_bind: str = "127.0.0.1"
    # Open TAK connections per instance (TCP and TLS together): more are closed at once.
    tak_max_connections: int = Field(default=1_000, ge=1)
    # A connection that sends nothing (not even a ping) for this long is closed.
    tak_idle_timeout_s: float = Field(default=120.0, gt=0)
    # How often anchor changes are read from the event log for connected TAK clients.
    tak_follow_interval_s: float = Field(default=1.0, gt=0)

    # Population alerts (BE-Alert, docs/protocol-additions.md "Alerts"). CAP `sender` of every
    # message (protocol: CAP_SENDER); kept on each message as it was sent.
    cap_sender: str = Field(default="crisishub@localhost", min_length=1, max_length=200)
    # CAP `senderName` of every info: the authority as the public knows it.
    cap_sender_name: str = Field(default="CrisisHub", min_length=1, max_length=200)
    # How far ahead an alert may expire.
    alert_max_hours: float = Field(default=168.0, gt=0)
    # The hub's address as the public reaches it (links in alert messages, the CAP feed, the
    # unsubscribe links); without it, links are built from the request's own address.
    public_url: str | None = None

    # Delivery of the outbox (hub/delivery/, docs/protocol-additions.md "Delivery (issue 13)"):
    # each channel by its URL (secrets in them never reach a log), its rate per instance.
    smtp_url: str | None = Field(default=None, repr=False)
    # The From of every e-mail; its domain makes the Message-IDs.
    smtp_from: str = Field(default="crisishub@localhost", min_length=3, max_length=254)
    alert_email_per_second: float = Field(default=1000.0, gt=0)
    # SMS over SMPP 3.4: smpp://system_id:password@host:port, bound as a transceiver.
    smpp_url: str | None = Field(default=None, repr=False)
    # The sender the public sees (alphanumeric, at most 11 characters).
    smpp_source: str = Field(default="BE-Alert", min_length=1, max_length=11)
    alert_sms_per_second: float = Field(default=100.0, gt=0)
    # How long a bind or a submit_sm may wait for the SMSC's answer: past it the session is
    # dropped and the message retried, so a silent SMSC never holds the worker (and its lease).
    smpp_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # Voice calls through an HTTP gateway (POST {to, language, text}); calls at once.
    voice_url: str | None = Field(default=None, repr=False)
    alert_voice_concurrency: int = Field(default=600, ge=1)
    # The mobile operators' CAP gateways (comma list): each gets every CAP message by POST.
    operator_cap_urls: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    # SMTP connections kept open, each handing over one message at a time.
    alert_email_connections: int = Field(default=4, ge=1, le=100)
    # How long a claimed delivery is this instance's: after that, another takes it back.
    delivery_lease_s: float = Field(default=30.0, gt=0)
    delivery_max_attempts: int = Field(default=8, ge=1)
    # Back-off of a retried hand-over: base * 2^(attempts - 1), at most max, jittered.
    delivery_retry_base_s: float = Field(default=2.0, gt=0)
    delivery_retry_max_s: float = Field(default=300.0, gt=0)
    # How often an idle worker looks for queued deliveries.
    delivery_poll_s: float = Field(default=0.5, gt=0)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_URL must be an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("weather_url")
    @classmethod
    def _weather_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("WEATHER_URL must be an http:// or https:// address")
        return value or None

    @field_validator("basemap_pmtiles")
    @classmethod
    def _basemap_pmtiles(cls, value: str | None) -> str | None:
        # Checked at start-up: a wrong path would otherwise show as a map of blank tiles.
        if not value:
            return None
        try:
            with open(value, "rb") as archive:
                magic = archive.read(8)
        except OSError as error:
            raise ValueError(f"BASEMAP_PMTILES: cannot read {value!r}: {error.strerror}") from None
        if magic[:7] != b"PMTiles" or magic[7:] != b"\x03":
            raise ValueError(f"BASEMAP_PMTILES: {value!r} is not a PMTiles version 3 archive")
        return value

    @field_validator("cap_sender")
    @classmethod
    def _cap_sender(cls, value: str) -> str:
        # CAP 1.2: sender must not include spaces, commas or restricted characters (< and &).
        if any(char in value for char in " ,<&\t\n"):
            raise ValueError("CAP_SENDER may not contain spaces, commas, < or &")
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]
        return value

    @field_validator("operator_cap_urls", mode="before")
    @classmethod
    def _split_operators(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"TRUSTED_PROXIES: {item!r} is not an address or network ('*' is refused)"
                ) from None
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        if "*" in value:
            raise ValueError("ALLOWED_ORIGINS may not be '*': list the browser origins")
        return value

    @model_validator(mode="after")
    def _secret(self) -> Settings:
        if not self.secret_key:
            if self.environment == "production":
                raise ValueError(
                    "SECRET_KEY is required (or set ENVIRONMENT=dev for a throw-away key)"
                )
            self.secret_key = secrets.token_urlsafe(32)
        return self

    @model_validator(mode="after")
    def _tak_tls(self) -> Settings:
        if self.tak_tls_port is not None:
            files = {
                "TAK_TLS_CERT": self.tak_tls_cert,
                "TAK_TLS_KEY": self.tak_tls_key,
                "TAK_TLS_CA": self.tak_tls_ca,
            }
            missing = [name for name, path in files.items() if not path]
            if missing:
                raise ValueError(
                    f"TAK_TLS_PORT needs {', '.join(missing)} (client certificates are required)"
                )
        return self

    @property
    def async_database_url(self) -> str:
        return async_url(self.database_url)


def async_url(url: str) -> str:
    """Map a plain SQLAlchemy URL to its asyncio driver (Procfile platforms give postgres://)."""
    for prefix, replacement in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url
