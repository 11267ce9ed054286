"""SMS over SMPP 3.4 (smpp34): `SMPP_URL` is `smpp://system_id:password@host:port`, bound as a
transceiver (`?bind=TX` for a transmitter, which gets no delivery receipts).

A text GSM 03.38 can encode goes as GSM-7 (data_coding 0, one octet a septet, the extension
table's characters two), any other as UCS-2 (data_coding 8, UTF-16BE); one that does not fit
in one SMS (160 septets, 70 UCS-2 units) goes as a concatenated message, parts of 153 septets
or 67 units behind a user data header (esm_class 0x40, 8-bit reference), never splitting a
character or an escape. Every part asks for a delivery receipt (registered_delivery 1); the
SMSC's message id of the first part is the delivery's `provider_id`, and its receipt
(`stat:DELIVRD`, else UNDELIV, REJECTD, EXPIRED…) turns `sent` into `delivered` or `failed`.

`ESME_RTHROTTLED` and `ESME_RMSGQFUL` are a Retry that slows the channel down, never a
failure; any other refusal of the SMSC fails the delivery with its status. A bind or a
submit_sm unanswered within SMPP_TIMEOUT_S drops the session and is a Retry: a silent SMSC
holds neither the worker nor the deliveries it leased.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import smpp34

from hub.delivery.channel import Outgoing, Refused, Retry
from hub.logs import without_secret

log = logging.getLogger(__name__)

GSM7, UCS2 = 0, 8
_UDH_INDICATOR = 0x40
# SMPP 3.4 command_status values (section 5.1.3) that mean "not now".
ESME_RMSGQFUL, ESME_RTHROTTLED = 0x14, 0x58
_SLOW_DOWN = {ESME_RTHROTTLED: "ESME_RTHROTTLED", ESME_RMSGQFUL: "ESME_RMSGQFUL"}
_RECEIPT = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>\w+)(?:.*?err:(?P<err>\w+))?", re.S)

Receipt = Callable[[str, bool, str], None]
# Inbound PDUs (receipts) the library may hold before its reader waits for ours.
_INBOUND = 10_000


async def _stop(client: smpp34.Client) -> None:
    try:
        await client.stop()
    except (smpp34.SmppError, OSError):
        pass


def _units(char: str, coding: int) -> int:
    if coding == GSM7:
        return len(char.encode("gsm03.38"))
    return len(char.encode("utf-16-be")) // 2


def encode(text: str) -> tuple[int, list[bytes]]:
    """(data_coding, the short_message of each part, UDH excluded)."""
    try:
        text.encode("gsm03.38")
        coding, single, part, codec = GSM7, 160, 153, "gsm03.38"
    except UnicodeEncodeError:
        coding, single, part, codec = UCS2, 70, 67, "utf-16-be"
    total = sum(_units(char, coding) for char in text)
    if total <= single:
        return coding, [text.encode(codec)]
    parts: list[bytes] = []
    current: list[str] = []
    used = 0
    for char in text:
        size = _units(char, coding)
        if used + size > part:
            parts.append("".join(current).encode(codec))
            current, used = [], 0
        current.append(char)
        used += size
    if current:
        parts.append("".join(current).encode(codec))
    return coding, parts


def with_udh(parts: list[bytes], reference: int) -> list[bytes]:
    if len(parts) == 1:
        return parts
    return [
        bytes([0x05, 0x00, 0x03, reference & 0xFF, len(parts), number]) + body
        for number, body in enumerate(parts, 1)
    ]


class SmppChannel:
    name = "sms"

    def __init__(
        self, url: str, per_second: float, source: str, *, timeout_s: float = 10.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "smpp" or not parts.hostname or parts.username is None:
            raise ValueError("SMPP_URL must be smpp://system_id:password@host:port")
        self._url = url
        self._host, self._port = parts.hostname, parts.port or 2775
        self._system_id = unquote(parts.username)
        self._password = unquote(parts.password or "")
        # SMPP 3.4 C-Octet-Strings: system_id at most 15 octets, password at most 8.
        if len(self._system_id.encode()) > 15 or len(self._password.encode()) > 8:
            raise ValueError("SMPP_URL: system_id is at most 15 octets, password at most 8")
        bind = parse_qs(parts.query).get("bind", ["TRX"])[0].upper()
        if bind not in ("TX", "TRX"):
            raise ValueError("SMPP_URL bind must be TX or TRX")
        self._bind = bind
        self.source = source
        self.per_second = per_second
        self.timeout_s = timeout_s
        # One session, its window of outstanding submits is the library's.
        self.concurrency = 10
        self._client: smpp34.Client | None = None
        self._session: smpp34.Smsc | None = None
        self._lock = asyncio.Lock()
        self._receipts: Receipt | None = None
        self._listener: asyncio.Task[None] | None = None
        self._reference = 0
        # The SMSC's ids of the later parts of concatenated messages: their receipts add
        # nothing to the first part's, which the delivery is recorded by.
        self._later_parts: set[str] = set()

    def describe(self) -> str:
        return without_secret(self._url)

    def listen(self, on_receipt: Receipt) -> None:
        self._receipts = on_receipt

    async def _bound(self) -> smpp34.Smsc:
        async with self._lock:
            if self._session is not None:
                return self._session
            client = smpp34.Client(
                self._host,
                self._port,
                self._system_id,
                self._password,
                bind_type=self._bind,
                connect_timeout_ms=int(self.timeout_s * 1000),
                # Receipts come in as fast as the SMSC sends them; the reader hands each to
                # the worker at once, this is only slack for a burst.
                inbound_capacity=_INBOUND,
            )
            try:
                session = await asyncio.wait_for(client.connect(), self.timeout_s)
            except TimeoutError:
                await _stop(client)
                raise Retry(f"SMSC did not answer the bind within {self.timeout_s:g} s") from None
            except (smpp34.SmppError, OSError) as error:
                raise Retry(f"SMSC unreachable or bind refused: {error}") from None
            self._client, self._session = client, session
            if self._bind == "TRX":
                self._listener = asyncio.create_task(self._listen(session))
            log.info("SMPP bound to %s as %s", self.describe(), self._bind)
            return session

    async def _drop(self, session: smpp34.Smsc | None) -> None:
        """Ends `session` if it is still the current one: of ten hand-overs failing on one
        lost session, the first drops it and the others leave the next session alone."""
        if session is None or session is not self._session:
            return
        client = self._client
        self._session = self._client = None
        if self._listener is not None:
            self._listener.cancel()
            self._listener = None
        if client is not None:
            await _stop(client)

    async def _listen(self, session: smpp34.Smsc) -> None:
        while True:
            event = await session.next()
            if isinstance(event, smpp34.Disconnected):
                log.warning("SMPP session to %s ended", self.describe())
                if self._listener is asyncio.current_task():
                    self._listener = None  # not to be cancelled by the drop it makes
                await self._drop(session)
                return
            if not event.esm_class & 0x04 or self._receipts is None:
                continue  # a mobile-originated message: the hub takes none
            found = _RECEIPT.search(event.short_message.decode("latin-1"))
            if found is None or found["id"] in self._later_parts:
                self._later_parts.discard(found["id"] if found else "")
                continue
            stat, err = found["stat"], found["err"] or "-"
            self._receipts(found["id"], stat == "DELIVRD", f"receipt {stat} err:{err}")

    async def send(self, message: Outgoing) -> str:
        session = await self._bound()
        coding, bodies = encode(message.text)
        self._reference = (self._reference + 1) % 256
        parts = with_udh(bodies, self._reference)
        first: str | None = None
        for body in parts:
            try:
                submitted = session.submit_sm(
                    message.address.lstrip("+"),
                    body,
                    source_addr=self.source,
                    source_addr_ton=5,  # alphanumeric
                    dest_addr_ton=1,  # international
                    dest_addr_npi=1,  # E.164
                    esm_class=_UDH_INDICATOR if len(parts) > 1 else 0,
                    registered_delivery=1,
                    data_coding=coding,
                )
                answer = await asyncio.wait_for(submitted, self.timeout_s)
            except TimeoutError:
                await self._drop(session)
                raise Retry(f"SMSC did not answer submit_sm within {self.timeout_s:g} s") from None
            except (smpp34.SmppError, OSError) as error:
                await self._drop(session)
                raise Retry(f"SMPP session lost: {error}") from None
            status = answer.command_status
            if status in _SLOW_DOWN:
                raise Retry(f"SMSC asked to slow down ({_SLOW_DOWN[status]})", throttled=True)
            if not answer.is_success:
                raise Refused(f"SMSC refused it: command_status 0x{status:08X}")
            if first is None:
                first = answer.message_id or ""
            elif answer.message_id:
                if len(self._later_parts) > 100_000:
                    self._later_parts.clear()  # receipts long gone; bounded memory
                self._later_parts.add(answer.message_id)
        return first or ""

    async def close(self) -> None:
        session = self._session
        if session is not None:
            try:
                await asyncio.wait_for(session.unbind(), self.timeout_s)
            except (TimeoutError, smpp34.SmppError, OSError):
                pass
        await self._drop(session)
