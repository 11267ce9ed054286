"""TAK devices against a live hub: pytak (a real TAK client library) as the device, over TCP,
TLS with client certificates and TAK protocol v1; anchors back to it as CoT; bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from configparser import ConfigParser
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, fromstring

import httpx
import pytak
import pytest
import takproto
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text

from hub.client import HubClient
from tests.conftest import Clients
from tests.live import ROOT, HubProcess, free_port
from tests.seed import Seeder, TestUser

# A perimeter in Brussels (lon/lat, as GeoJSON) and points inside and beside it.
ZONE: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [
            [4.3810, 50.8410],
            [4.3790, 50.8410],
            [4.3790, 50.8430],
            [4.3810, 50.8430],
            [4.3810, 50.8410],
        ]
    ],
}
SMALLER: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [[[4.3805, 50.8415], [4.3795, 50.8415], [4.3800, 50.8425], [4.3805, 50.8415]]],
}
COMMAND_POST: dict[str, Any] = {"type": "Point", "coordinates": [4.3700, 50.8400]}
# pytak writes lat/lon with 4 decimals: positions here are on that grid.
START = (50.8450, 4.3900)


# certificates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path  # signed by another CA
    stranger_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write(path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> Path:
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _certificate(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer if issuer is not None else (subject, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(directory: Path) -> Pki:
    """A throw-away CA, the hub's certificate, a device's, and a stranger's from another CA."""
    ca_key, other_key = _key(), _key()
    ca = _certificate("CrisisHub test CA", ca_key, None, ca=True)
    other = _certificate("Another CA", other_key, None, ca=True)
    issuer = (ca.subject, ca_key)
    server_key, client_key, stranger_key = _key(), _key(), _key()
    _write(directory / "ca.pem", ca_key, ca)
    _write(
        directory / "server.pem",
        server_key,
        _certificate("localhost", server_key, issuer, server=True),
    )
    _write(directory / "device.pem", client_key, _certificate("ANDROID-test", client_key, issuer))
    _write(
        directory / "stranger.pem",
        stranger_key,
        _certificate("stranger", stranger_key, (other.subject, other_key)),
    )
    return Pki(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "device.pem",
        client_key=directory / "device.key",
        stranger_cert=directory / "stranger.pem",
        stranger_key=directory / "stranger.key",
    )


# the hubs ---------------------------------------------------------------------------------------


@dataclass
class TakHub:
    process: HubProcess
    cot_port: int
    tls_port: int | None
    pki: Pki | None


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def tak_hub(database_url: str, logs: Path, pki: Pki | None, **env: Any) -> TakHub:
    cot_port = free_port()
    tls_port = free_port() if pki is not None else None
    settings: dict[str, Any] = {
        "tak_cot_port": cot_port,
        "tak_follow_interval_s": 0.2,
        "silent_after_s": 3600,
        **env,
    }
    if pki is not None:
        settings |= {
            "tak_tls_port": tls_port,
            "tak_tls_cert": pki.server_cert,
            "tak_tls_key": pki.server_key,
            "tak_tls_ca": pki.ca,
        }
    process = HubProcess(database_url, log_dir=logs, **settings).start()
    return TakHub(process, cot_port, tls_port, pki)


@pytest.fixture(scope="module")
def hub(database_url: str, logs: Path, pki: Pki) -> Iterator[TakHub]:
    server = tak_hub(database_url, logs, pki)
    yield server
    server.process.stop()


# the device: pytak ------------------------------------------------------------------------------


def pytak_config(url: str, **options: str) -> Any:
    parser = ConfigParser()
    parser["device"] = {"COT_URL": url, **options}
    return parser["device"]


@dataclass
class Device:
    """A pytak connection: its TXWorker sends (converting to protobuf when TAK_PROTO=1)."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    tx: pytak.TXWorker
    uid: str

    async def position(self, lat: float, lon: float, at: dt.datetime | None = None) -> None:
        await self.tx.send_data(cot(self.uid, lat, lon, at=at))

    async def raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


@asynccontextmanager
async def device(url: str, uid: str, **options: str) -> AsyncIterator[Device]:
    config = pytak_config(url, **options)
    reader, writer = await pytak.protocol_factory(config)
    try:
        yield Device(reader, writer, pytak.TXWorker(asyncio.Queue(), config, writer), uid)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


def tls_options(pki: Pki) -> dict[str, str]:
    return {
        "PYTAK_TLS_CLIENT_CERT": str(pki.client_cert),
        "PYTAK_TLS_CLIENT_KEY": str(pki.client_key),
        "PYTAK_TLS_CLIENT_CAFILE": str(pki.ca),
        "PYTAK_TLS_SERVER_EXPECTED_HOSTNAME": "localhost",
    }


async def read_xml(reader: asyncio.StreamReader) -> Element:
    data = await asyncio.wait_for(reader.readuntil(b"</event>"), 10)
    return fromstring(data.strip())


async def read_proto(reader: asyncio.StreamReader) -> Any:
    """One TAK protocol v1 stream frame, decoded by takproto."""
    magic = await asyncio.wait_for(reader.readexactly(1), 10)
    assert magic == b"\xbf"
    length, shift, header = 0, 0, bytearray()
    while True:
        byte = (await reader.readexactly(1))[0]
        header.append(byte)
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    payload = await reader.readexactly(length)
    return takproto.parse_proto(bytearray(magic + header + payload))


async def events_until(
    reader: asyncio.StreamReader, done: Callable[[list[Element]], bool], limit: int = 50
) -> list[Element]:
    received: list[Element] = []
    for _ in range(limit):
        received.append(await read_xml(reader))
        if done(received):
            return received
    raise AssertionError(f"not received: {[e.get('type') for e in received]}")


def of_uid(events: list[Element], uid: str) -> list[Element]:
    return [event for event in events if event.get("uid") == uid]


async def closed_by_hub(reader: asyncio.StreamReader) -> bool:
    """True once the hub closed the connection (EOF or reset), reading what it sends first."""
    for _ in range(1_000):
        try:
            data = await asyncio.wait_for(reader.read(65_536), 15)
        except (ConnectionError, ssl.SSLError):
            return True
        if not data:
            return True
    return False


def cot(
    uid: str, lat: float, lon: float, kind: str = "a-f-G-U-C", at: dt.datetime | None = None
) -> bytes:
    """A position event as pytak makes it; `at` sets its time (default: now)."""
    event = pytak.cot_event(lat=lat, lon=lon, uid=uid, ce=5, cot_type=kind, callsign="Unit")
    if at is not None:
        for name in ("time", "start"):
            event.set(name, at.strftime(pytak.W3C_XML_DATETIME))
    data: bytes = pytak.serialize_cot(event)
    return data


# registration and reading back ------------------------------------------------------------------


def crisishub(database_url: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def register(database_url: str, incident: str, label: str, uid: str, convoy: str = "TAK") -> str:
    """`crisishub device add INCIDENT LABEL --convoy NAME --tak-uid UID`, as operators run it."""
    result = crisishub(
        database_url, "device", "add", incident, label, "--convoy", convoy, "--tak-uid", uid
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


async def vehicles(server: HubProcess, manager: TestUser, incident: str) -> dict[str, str]:
    """label -> vehicle id."""
    async with httpx.AsyncClient(
        base_url=server.url, headers={"authorization": f"Bearer {manager.token}"}
    ) as http:
        response = await http.get(f"/api/incidents/{incident}/convoys")
        assert response.status_code == 200, response.text
    return {v["label"]: v["id"] for c in response.json()["convoys"] for v in c["vehicles"]}


async def track(server: HubProcess, manager: TestUser, vehicle_id: str) -> list[list[float]]:
    async with httpx.AsyncClient(
        base_url=server.url, headers={"authorization": f"Bearer {manager.token}"}
    ) as http:
        response = await http.get(f"/api/vehicles/{vehicle_id}/track")
        assert response.status_code == 200, response.text
    coordinates: list[list[float]] = response.json()["geometry"]["coordinates"]
    return coordinates


async def track_of_length(
    server: HubProcess, manager: TestUser, vehicle_id: str, length: int
) -> list[list[float]]:
    points: list[list[float]] = []
    for _ in range(200):
        points = await track(server, manager, vehicle_id)
        if len(points) >= length:
            return points
        await asyncio.sleep(0.05)
    raise AssertionError(f"track has {len(points)} points, expected {length}")


async def incident_with_devices(
    seed: Seeder, database_url: str, *labels: str
) -> tuple[TestUser, str, dict[str, str]]:
    """A manager, an incident, and a registered TAK uid per label (label -> uid)."""
    manager = await seed.user("tak-manager")
    incident = await seed.incident({manager: "manager"}, kind="event")
    uids = {label: f"ANDROID-{uuid.uuid4().hex[:16]}" for label in labels}
    for label, uid in uids.items():
        await asyncio.to_thread(register, database_url, incident, label, uid)
    return manager, incident, uids


async def create_anchor(
    client: HubClient, incident: str, kind: str, label: str, geometry: dict[str, Any], **props: Any
) -> dict[str, Any]:
    ack = await client.request(
        "anchor.create",
        {
            "incident_id": incident,
            "client_id": str(uuid.uuid4()),
            "kind": kind,
            "label": label,
            "geometry": geometry,
            "properties": props,
        },
    )
    anchor: dict[str, Any] = ack["anchor"]
    return anchor


def anchor_uid(anchor: dict[str, Any]) -> str:
    return f"crisishub.anchor.{anchor['id']}"


def link_points(event: Element) -> list[float]:
    """The vertices of a drawing shape, flat: lat, lon, lat, lon…"""
    return [
        float(number)
        for link in event.iterfind("detail/link")
        for number in str(link.get("point")).split(",")
    ]


def flat(ring: list[list[float]]) -> list[float]:
    """A GeoJSON ring (lon, lat) as CoT's vertex order, flat: lat, lon, lat, lon…"""
    return [number for lon, lat in ring for number in (lat, lon)]


# positions in -----------------------------------------------------------------------------------


async def test_a_pytak_position_is_a_fix_stored_and_broadcast(
    hub: TakHub, seed: Seeder, database_url: str, clients: Clients
) -> None:
    manager, incident, uids = await incident_with_devices(seed, database_url, "TAK 1")
    vehicle_id = (await vehicles(hub.process, manager, incident))["TAK 1"]
    watcher = await clients(hub.process, manager)
    await watcher.join(incident)
    async with device(f"tcp://127.0.0.1:{hub.cot_port}", uids["TAK 1"]) as tak:
        await tak.position(*START)
        await tak.position(START[0] - 0.0005, START[1] - 0.0005)
        points = await track_of_length(hub.process, manager, vehicle_id, 2)
    assert points[0] == pytest.approx([START[1], START[0]])
    assert points[1] == pytest.approx([START[1] - 0.0005, START[0] - 0.0005])
    latest: dict[str, Any] = {}
    for _ in range(200):
        latest = {p["vehicle_id"]: p for m in watcher.positions for p in m["positions"]}
        if vehicle_id in latest and latest[vehicle_id]["lat"] == pytest.approx(50.8445):
            break
        await asyncio.sleep(0.05)
    assert latest[vehicle_id]["lat"] == pytest.approx(50.8445)
    assert latest[vehicle_id]["lon"] == pytest.approx(4.3895)
    assert latest[vehicle_id]["accuracy"] == 5


async def test_a_tak_fix_is_checked_like_any_other_and_raises_the_same_alerts(
    hub: TakHub, seed: Seeder, database_url: str, clients: Clients
) -> None:
    """The pipeline's plausibility check flags a jump, and entering a perimeter is an alert."""
    manager, incident, uids = await incident_with_devices(seed, database_url, "TAK 2")
    vehicle_id = (await vehicles(hub.process, manager, incident))["TAK 2"]
    watcher = await clients(hub.process, manager)
    await watcher.join(incident)
    await create_anchor(watcher, incident, "exclusion_zone", "Red zone", ZONE)
    t0 = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    async with device(f"tcp://127.0.0.1:{hub.cot_port}", uids["TAK 2"]) as tak:
        await tak.position(50.8400, 4.3800, t0)  # outside, south of the zone
        await track_of_length(hub.process, manager, vehicle_id, 1)
        # 111 km north ten seconds later: flagged (and not on the trail)
        await tak.position(51.8400, 4.3800, t0 + dt.timedelta(seconds=10))
        # inside the zone a minute after the first
        await tak.position(50.8420, 4.3800, t0 + dt.timedelta(seconds=60))
        points = await track_of_length(hub.process, manager, vehicle_id, 2)
        alerts: list[dict[str, Any]] = []
        for _ in range(200):
            alerts = [
                e["data"] for e in watcher.incidents[incident].events if e["type"] == "convoy.alert"
            ]
            if alerts:
                break
            await asyncio.sleep(0.05)
    # The flagged fix is stored for the record but not on the (accepted) trail.
    assert [p[1] for p in points] == pytest.approx([50.8400, 50.8420])
    [alert] = alerts
    assert alert["alert"] == "enter" and alert["vehicle_id"] == vehicle_id
    assert alert["anchor_label"] == "Red zone" and alert["vehicle_label"] == "TAK 2"
    async with seed.hub.db.read() as session:
        flagged = await session.scalar(
            text("SELECT count(*) FROM position WHERE vehicle_id = :v AND flagged"),
            {"v": vehicle_id},
        )
    assert flagged == 1


# anchors out ------------------------------------------------------------------------------------


async def test_anchors_arrive_as_cot_and_follow_changes_and_deletion(
    hub: TakHub, seed: Seeder, database_url: str, clients: Clients
) -> None:
    manager, incident, uids = await incident_with_devices(seed, database_url, "TAK 3")
    app = await clients(hub.process, manager)
    await app.join(incident)
    zone = await create_anchor(app, incident, "exclusion_zone", "Red zone", ZONE)
    post = await create_anchor(app, incident, "command_post", "CP Loi", COMMAND_POST)
    circle = await create_anchor(
        app, incident, "isolation_zone", "Orange ring", COMMAND_POST, radius_m=250
    )
    async with device(f"tcp://127.0.0.1:{hub.cot_port}", uids["TAK 3"]) as tak:
        await tak.position(*START)  # identifies the device: the anchors follow

        def three(received: list[Element]) -> bool:
            return {anchor_uid(a) for a in (zone, post, circle)} <= {e.get("uid") for e in received}

        received = await events_until(tak.reader, three)
        [shape] = of_uid(received, anchor_uid(zone))
        assert shape.get("type") == "u-d-f"
        assert link_points(shape) == pytest.approx(flat(ZONE["coordinates"][0]))
        contact = shape.find("detail/contact")
        assert contact is not None
        assert contact.get("callsign") == "Red zone"
        assert shape.find("detail/strokeColor") is not None
        [marker] = of_uid(received, anchor_uid(post))
        assert marker.get("type") == "b-m-p-s-m"
        point = marker.find("point")
        assert point is not None
        assert (float(point.get("lat", 0)), float(point.get("lon", 0))) == (50.84, 4.37)
        contact = marker.find("detail/contact")
        assert contact is not None
        assert contact.get("callsign") == "CP Loi"
        [ring_event] = of_uid(received, anchor_uid(circle))
        assert ring_event.get("type") == "u-d-c-c"
        ellipse = ring_event.find("detail/shape/ellipse")
        assert ellipse is not None and float(ellipse.get("major", 0)) == 250

        # Reshaped: the same uid again, with the new vertices.
        await app.request(
            "anchor.update",
            {
                "incident_id": incident,
                "anchor_id": zone["id"],
                "version": zone["version"],
                "geometry": SMALLER,
            },
        )
        updated = await events_until(tak.reader, lambda r: bool(of_uid(r, anchor_uid(zone))))
        [shape] = of_uid(updated, anchor_uid(zone))
        assert link_points(shape) == pytest.approx(flat(SMALLER["coordinates"][0]))
        # Deleted: a t-x-d-d naming it.
        await app.request(
            "anchor.delete",
            {"incident_id": incident, "anchor_id": post["id"], "version": post["version"]},
        )

        def deleted(received: list[Element]) -> bool:
            return any(e.get("type") == "t-x-d-d" for e in received)

        gone = await events_until(tak.reader, deleted)
        [delete] = [e for e in gone if e.get("type") == "t-x-d-d"]
        link = delete.find("detail/link")
        assert link is not None and link.get("uid") == anchor_uid(post)
        assert delete.find("detail/__forcedelete") is not None


async def test_anchor_changes_reach_tak_clients_of_another_instance(
    hub: TakHub, seed: Seeder, database_url: str, logs: Path, clients: Clients
) -> None:
    """The bridge follows the event log, so a change made through one instance reaches the
    TAK clients of another (no Redis here: the log is what they share)."""
    other = tak_hub(database_url, logs, None)
    try:
        manager, incident, uids = await incident_with_devices(seed, database_url, "TAK 4")
        app = await clients(hub.process, manager)
        await app.join(incident)
        async with device(f"tcp://127.0.0.1:{other.cot_port}", uids["TAK 4"]) as tak:
            await tak.position(*START)
            vehicle_id = (await vehicles(hub.process, manager, incident))["TAK 4"]
            await track_of_length(hub.process, manager, vehicle_id, 1)
            zone = await create_anchor(app, incident, "dissuasion_zone", "Yellow zone", ZONE)
            received = await events_until(tak.reader, lambda r: bool(of_uid(r, anchor_uid(zone))))
        [shape] = of_uid(received, anchor_uid(zone))
        assert shape.get("type") == "u-d-f"
        assert link_points(shape) == pytest.approx(flat(ZONE["coordinates"][0]))
    finally:
        other.process.stop()


# TLS and TAK protocol v1 ------------------------------------------------------------------------


# pytak's TLS context sets ssl.OP_NO_TLSv1 and OP_NO_TLSv1_1 (pytak/client_functions.py
# get_ssl_ctx), which Python 3.10+ deprecates: its warning, and only it, is let through here.
@pytest.mark.filterwarnings(
    r"ignore:ssl\.OP_NO_SSL\*/ssl\.OP_NO_TLS\* options are deprecated:DeprecationWarning"
)
async def test_tls_with_a_client_certificate_and_clients_without_one_refused(
    hub: TakHub, seed: Seeder, database_url: str
) -> None:
    assert hub.pki is not None and hub.tls_port is not None
    manager, incident, uids = await incident_with_devices(seed, database_url, "TAK TLS")
    vehicle_id = (await vehicles(hub.process, manager, incident))["TAK TLS"]
    url = f"tls://127.0.0.1:{hub.tls_port}"
    async with device(url, uids["TAK TLS"], **tls_options(hub.pki)) as tak:
        await tak.position(*START)
        [point] = await track_of_length(hub.process, manager, vehicle_id, 1)
        assert tak.writer.get_extra_info("peercert") is not None  # the hub's, verified
    assert point == pytest.approx([START[1], START[0]])

    # Without a certificate, or with one of another CA: the handshake is refused, and what
    # such a client sends is never read.
    for cert in (None, (hub.pki.stranger_cert, hub.pki.stranger_key)):
        context = ssl.create_default_context(cafile=str(hub.pki.ca))
        if cert is not None:
            context.load_cert_chain(str(cert[0]), str(cert[1]))
        refused = False
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", hub.tls_port, ssl=context, server_hostname="localhost"
            )
        except (ssl.SSLError, ConnectionError):
            refused = True
        else:
            try:
                event = pytak.gen_cot(lat=51.0, lon=4.0, uid=uids["TAK TLS"], ce=5)
                assert event is not None
                writer.write(event)
                await writer.drain()
                refused = await closed_by_hub(reader)
            except (ssl.SSLError, ConnectionError):
                refused = True
            finally:
                writer.close()
                try:
                    await writer.wait_closed()
                except (ssl.SSLError, ConnectionError):
                    pass
        assert refused
    assert len(await track(hub.process, manager, vehicle_id)) == 1


async def test_tak_protocol_v1_stream_in_and_anchors_out_as_protobuf(
    hub: TakHub, seed: Seeder, database_url: str, clients: Clients
) -> None:
    manager, incident, uids = await incident_with_devices(seed, database_url, "TAK v1")
    vehicle_id = (await vehicles(hub.process, manager, incident))["TAK v1"]
    app = await clients(hub.process, manager)
    await app.join(incident)
    zone = await create_anchor(app, incident, "exclusion_zone", "Red zone", ZONE)
    url = f"tcp://127.0.0.1:{hub.cot_port}"
    async with device(url, uids["TAK v1"], TAK_PROTO="1") as tak:
        await tak.position(*START)  # pytak sends it as a protobuf stream frame
        [point] = await track_of_length(hub.process, manager, vehicle_id, 1)
        message = await read_proto(tak.reader)
    assert point == pytest.approx([START[1], START[0]])
    event = message.cotEvent
    assert event.uid == anchor_uid(zone) and event.type == "u-d-f"
    assert event.detail.contact.callsign == "Red zone"
    assert event.detail.xmlDetail.count("<link point=") == 5


# bad input --------------------------------------------------------------------------------------

BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'.encode()
        for n in range(1, 10)
    )
    + b']><event version="2.0" uid="UID" type="a-f-G-U-C">'
    b'<point lat="50.85" lon="4.39" hae="0" ce="5" le="0"/><detail>&lol9;</detail></event>'
)
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<event version="2.0" uid="UID" type="a-f-G-U-C">'
    b'<point lat="50.85" lon="4.39" hae="0" ce="5" le="0"/><detail>&x;</detail></event>'
)


async def test_bad_input_is_ignored_or_closes_its_connection_and_others_keep_working(
    hub: TakHub, seed: Seeder, database_url: str
) -> None:
    manager, incident, uids = await incident_with_devices(
        seed, database_url, "Good", "Noisy", "Flood"
    )
    ids = await vehicles(hub.process, manager, incident)
    url = f"tcp://127.0.0.1:{hub.cot_port}"
    async with (
        device(url, uids["Good"]) as good,
        device(url, uids["Noisy"]) as noisy,
        device(url, uids["Flood"]) as flood,
    ):
        await good.position(50.8450, 4.3900)
        await track_of_length(hub.process, manager, ids["Good"], 1)
        unknown = f"ANDROID-{uuid.uuid4().hex[:16]}"
        for garbage in (
            cot(unknown, 50.8450, 4.3900),  # unknown uid
            cot(uids["Noisy"], 50.8450, 4.3900, kind="b-t-f"),  # unknown type (a chat)
            BOMB.replace(b"UID", uids["Noisy"].encode()),
            EXTERNAL.replace(b"UID", uids["Noisy"].encode()),
            b'<event version="2.0" uid="x" type="a-f-G"><point lat="50.8" lon=</event>',
            b"<not-cot/></event>",
            cot(uids["Noisy"], 123.0, 4.39),  # impossible latitude
            cot(uids["Noisy"], 50.85, 200.0),  # impossible longitude
            cot(uids["Noisy"], 50.85, 4.39).replace(b'lat="50.85"', b'lat="nan"'),
            # an event over the size limit, properly ended
            cot(uids["Noisy"], 50.85, 4.39).replace(b"<detail>", b"<detail>" + b" " * 70_000),
        ):
            await noisy.raw(garbage)
        await noisy.position(50.8440, 4.3890)  # the same connection goes on working
        [noisy_point] = await track_of_length(hub.process, manager, ids["Noisy"], 1)
        assert noisy_point == pytest.approx([4.3890, 50.8440])

        # A stream with no </event> for 1 MB: that connection is closed...
        await flood.raw(b'<event version="2.0" uid="x" type="a-f-G-U-C"><detail>')
        chunk = b"<remarks>" + b"x" * 65_000
        for _ in range(17):
            try:
                await flood.raw(chunk)
            except ConnectionError:
                break
        assert await closed_by_hub(flood.reader)
        # ... and the others are not.
        await good.position(50.8445, 4.3895)
        await noisy.position(50.8435, 4.3885)
        good_points = await track_of_length(hub.process, manager, ids["Good"], 2)
        noisy_points = await track_of_length(hub.process, manager, ids["Noisy"], 2)
    assert good_points[1] == pytest.approx([4.3895, 50.8445])
    assert noisy_points[1] == pytest.approx([4.3885, 50.8435])
    # Nothing of the garbage was stored: the noisy device has its two good fixes, the flood
    # none, and no unflagged position anywhere came from the forbidden or impossible events.
    assert len(await track(hub.process, manager, ids["Noisy"])) == 2
    assert await track(hub.process, manager, ids["Flood"]) == []
    async with seed.hub.db.read() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM position WHERE incident_id = :incident"),
            {"incident": incident},
        )
    assert count == 4
    log = hub.process.log_path.read_text()
    assert "closed: no </event> in" in log


async def test_too_many_connections_and_idle_ones_are_closed(
    database_url: str, logs: Path, seed: Seeder
) -> None:
    small = tak_hub(database_url, logs, None, tak_max_connections=2, tak_idle_timeout_s=3)
    try:
        manager, incident, uids = await incident_with_devices(seed, database_url, "Kept")
        vehicle_id = (await vehicles(small.process, manager, incident))["Kept"]
        url = f"tcp://127.0.0.1:{small.cot_port}"
        async with device(url, uids["Kept"]) as first, device(url, "idle") as second:
            await first.position(*START)
            await track_of_length(small.process, manager, vehicle_id, 1)
            for connection in (first, second):  # a ping keeps a connection alive
                await connection.raw(cot("ping", 0.0, 0.0, kind="t-x-c-t"))
            async with device(url, "third") as third:
                assert await closed_by_hub(third.reader)  # over TAK_MAX_CONNECTIONS
            # Both quiet for longer than TAK_IDLE_TIMEOUT_S: closed.
            assert await closed_by_hub(second.reader)
            assert await closed_by_hub(first.reader)
        # Room again: a new connection is served.
        async with device(url, uids["Kept"]) as again:
            await again.position(START[0] - 0.0005, START[1])
            await track_of_length(small.process, manager, vehicle_id, 2)
        log = small.process.log_path.read_text()
        assert "connections open (TAK_MAX_CONNECTIONS)" in log
        assert "nothing received for 3 s" in log
    finally:
        small.process.stop()


def test_a_tak_uid_is_registered_once(database_url: str, tmp_path: Path) -> None:
    """`device add --tak-uid` refuses a uid already registered, and a malformed one, with
    one line and a non-zero exit."""
    created = crisishub(
        database_url, "incident", "create", "TAK uids", "--kind", "exercise", cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    incident = created.stdout.strip().splitlines()[-1]
    uid = f"ANDROID-{uuid.uuid4().hex[:16]}"
    key = register(database_url, incident, "First", uid)
    assert len(key) >= 16
    for bad_uid, code in ((uid, "conflict"), ("has space", "invalid"), ("x" * 201, "invalid")):
        result = crisishub(
            database_url, "device", "add", incident, "Second", "--tak-uid", bad_uid, cwd=tmp_path
        )
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and code in lines[0], result.stderr
