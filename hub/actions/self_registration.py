"""Self-registration for BE-Alert (the public, no login): register, confirm with the code sent
on the first channel (double opt-in), unsubscribe with the token of the link every message
carries; and the purge of registrations left unconfirmed. The REST routes
(web/api/public_registrations.py), the pages (web/public_pages.py) and the CLI call these.

Personal data: log lines name registrations by id and show contact points masked but their
last 3 characters; codes and tokens never appear in them. Until the delivery workers exist,
"sending" a code is queuing an outbox message (models/outbox.py) on the first channel: sms,
else voice, else email.

Secrets: the code (6 digits, 30 minutes, 5 wrong tries then a new registration is needed) is
stored as an HMAC keyed by SECRET_KEY, so a copy of the database alone does not give it
away. The unsubscribe token is the HMAC of the registration's id: nothing is stored, and any
message (a confirmation now, an alert next) can carry the link, for imported registrations
too. Rotating SECRET_KEY therefore voids the links of messages already sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.alerts.registrations import next_shared_key
from hub.context import Hub
from hub.db import driver_connection
from hub.errors import HubError
from hub.logs import masked
from models.base import utcnow
from models.outbox import OutboxChannel, OutboxMessage, OutboxPurpose
from models.registration import Registration, RegistrationPlace, place_copies
from models.shapes import SelfRegistrationIn

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_VALID = timedelta(minutes=30)
MAX_CODE_FAILURES = 5
# An unconfirmed registration older than this is purged (it was never counted).
UNCONFIRMED_KEPT = timedelta(hours=24)

GONE = "no such registration"


@dataclass(frozen=True, slots=True)
class Created:
    id: str
    channel: OutboxChannel


def _key(secret: str) -> bytes:
    # A key of its own, derived from SECRET_KEY: the session cookies' signer uses that too.
    return hashlib.sha256(b"crisishub self-registration\x00" + secret.encode()).digest()


def _mac(secret: str, message: str) -> bytes:
    return hmac.new(_key(secret), message.encode(), hashlib.sha256).digest()


def code_hash(secret: str, registration_id: str, code: str) -> str:
    return _mac(secret, f"code\x00{registration_id}\x00{code}").hex()


def unsubscribe_token(secret: str, registration_id: str) -> str:
    return unsubscribe_signer(secret)(registration_id)


def unsubscribe_signer(secret: str) -> Callable[[str], str]:
    """unsubscribe_token with the key derived once: an alert signs a link per recipient
    (hundreds of thousands), hub/actions/alerts.py."""
    key = _key(secret)

    def sign(registration_id: str) -> str:
        raw = hmac.digest(key, f"unsubscribe\x00{registration_id}".encode(), "sha256")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return sign


def base_url(hub: Hub, request_base: str) -> str:
    """Where links in messages point: PUBLIC_URL, else the first allowed origin, else the
    request's own base URL. The last is a Host header the caller chose: a deployment sets
    PUBLIC_URL so that nobody can make the hub send links to a host of their own."""
    if hub.settings.public_url:
        return hub.settings.public_url
    if hub.settings.allowed_origins:
        return hub.settings.allowed_origins[0]
    return request_base.rstrip("/")


def unsubscribe_link(hub: Hub, base: str, registration_id: str) -> str:
    """The link every message to this registration carries (the token is 43 characters, so
    that an alert's SMS can count its length ahead: hub/actions/alerts.py)."""
    assert hub.settings.secret_key is not None
    token = unsubscribe_token(hub.settings.secret_key, registration_id)
    return f"{base}/public/registrations/{quote(registration_id)}/unsubscribe?token={token}"


def _first_channel(payload: SelfRegistrationIn) -> tuple[OutboxChannel, str]:
    if payload.sms is not None:
        return OutboxChannel.SMS, payload.sms
    if payload.voice is not None:
        return OutboxChannel.VOICE, payload.voice
    assert payload.email is not None  # the shape requires a channel
    return OutboxChannel.EMAIL, payload.email


# the messages, in the person's language -------------------------------------------------------

SUBJECT = {
    "fr": "BE-Alert : confirmez votre inscription",
    "nl": "BE-Alert: bevestig uw inschrijving",
    "de": "BE-Alert: Bestätigen Sie Ihre Anmeldung",
    "en": "BE-Alert: confirm your registration",
}
SHORT = {
    "fr": "BE-Alert : votre code de confirmation est {code} (valable 30 minutes). "
    "Désinscription : {link}",
    "nl": "BE-Alert: uw bevestigingscode is {code} (30 minuten geldig). Uitschrijven: {link}",
    "de": "BE-Alert: Ihr Bestätigungscode lautet {code} (30 Minuten gültig). Abmelden: {link}",
    "en": "BE-Alert: your confirmation code is {code} (valid for 30 minutes). Unsubscribe: {link}",
}
VOICE = {
    "fr": "Bonjour, ici BE-Alert. Votre code de confirmation est : {code}. Je répète : {code}. "
    "Pour vous désinscrire, ouvrez le lien {link}",
    "nl": "Goedendag, hier BE-Alert. Uw bevestigingscode is: {code}. Ik herhaal: {code}. "
    "Uitschrijven kan via de link {link}",
    "de": "Guten Tag, hier ist BE-Alert. Ihr Bestätigungscode lautet: {code}. "
    "Ich wiederhole: {code}. Zum Abmelden öffnen Sie den Link {link}",
    "en": "Hello, this is BE-Alert. Your confirmation code is: {code}. I repeat: {code}. "
    "To unsubscribe, open the link {link}",
}
EMAIL = {
    "fr": "Bonjour,\n\nVotre code de confirmation BE-Alert est {code}. Saisissez-le sur la page "
    "d'inscription dans les 30 minutes.\n\nSi vous n'êtes pas à l'origine de cette inscription, "
    "ignorez ce message ou supprimez-la :\n{link}\n\nBE-Alert",
    "nl": "Goedendag,\n\nUw BE-Alert-bevestigingscode is {code}. Vul hem binnen 30 minuten in "
    "op de inschrijvingspagina.\n\nHebt u zich niet ingeschreven? Negeer dan dit bericht of "
    "verwijder de inschrijving:\n{link}\n\nBE-Alert",
    "de": "Guten Tag,\n\nIhr BE-Alert-Bestätigungscode lautet {code}. Geben Sie ihn innerhalb "
    "von 30 Minuten auf der Anmeldeseite ein.\n\nFalls Sie sich nicht angemeldet haben, "
    "ignorieren Sie diese Nachricht oder löschen Sie die Anmeldung:\n{link}\n\nBE-Alert",
    "en": "Hello,\n\nYour BE-Alert confirmation code is {code}. Enter it on the registration "
    "page within 30 minutes.\n\nIf you did not register, ignore this message or remove the "
    "registration:\n{link}\n\nBE-Alert",
}


def confirmation_message(
    channel: OutboxChannel, language: str, code: str, link: str
) -> tuple[str | None, str]:
    """(subject, text) of the code's message on `channel`; a voice reads the digits apart."""
    if channel is OutboxChannel.EMAIL:
        return SUBJECT[language], EMAIL[language].format(code=code, link=link)
    if channel is OutboxChannel.VOICE:
        return None, VOICE[language].format(code=" ".join(code), link=link)
    return None, SHORT[language].format(code=code, link=link)


# the verbs ----------------------------------------------------------------------------------


async def register(
    hub: Hub, payload: SelfRegistrationIn, *, client: str, request_base: str
) -> Created:
    """Creates an unconfirmed registration and queues its code on the first channel, in one
    transaction. Refused (rate_limited) when the client address is over its budget or the
    first channel has been sent too many codes; a contact already registered is no
    different from a new one, so the answer tells nothing of it."""
    assert hub.public is not None and hub.settings.secret_key is not None
    hub.public.client(client)
    channel, address = _first_channel(payload)
    hub.public.codes([address])
    language = payload.language.value
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = utcnow()
    registration = Registration(
        language=language,
        sms=payload.sms,
        voice=payload.voice,
        email=payload.email,
        test_audience=False,
        confirmed=False,
        created_at=now,
        confirmation_expires_at=now + CODE_VALID,
    )
    registration.confirmation_hash = code_hash(hub.settings.secret_key, registration.id, code)
    link = unsubscribe_link(hub, base_url(hub, request_base), registration.id)
    subject, text = confirmation_message(channel, language, code, link)
    async with hub.db.write() as session:
        session.add(registration)
        await session.flush()  # the places and the message reference it
        # Several places share a key, on which an area's count counts the registration once.
        shared = None
        if len(payload.places) > 1:
            shared = await next_shared_key(await driver_connection(session), hub.db.is_sqlite)
        for place in payload.places:
            session.add(
                RegistrationPlace(
                    registration_id=registration.id,
                    label=place.label,
                    lat=place.lat,
                    lon=place.lon,
                    shared_key=shared,
                    # the audience's copies of the registration (models/registration.py)
                    **place_copies(registration),
                )
            )
        session.add(
            OutboxMessage(
                channel=channel.value,
                address=address,
                language=language,
                subject=subject,
                text=text,
                purpose=OutboxPurpose.CONFIRMATION.value,
                registration_id=registration.id,
            )
        )
    log.info(
        "self-registration %s created (%s; sms %s, voice %s, email %s; %d places); "
        "code queued on %s",
        registration.id,
        language,
        masked(payload.sms),
        masked(payload.voice),
        masked(payload.email),
        len(payload.places),
        channel.value,
    )
    return Created(registration.id, channel)


async def confirm(hub: Hub, registration_id: str, code: str, *, client: str) -> None:
    """Confirms the registration (and its places, which carry a copy) with its code. A wrong
    code counts; the fifth deletes an unconfirmed registration (a new one is needed). The
    same right code again is a success (a double submit), whatever the clock."""
    assert hub.public is not None and hub.settings.secret_key is not None
    hub.public.client(client)
    refusal: HubError | None = None
    async with hub.db.write() as session:
        registration = await session.scalar(
            select(Registration).where(col(Registration.id) == registration_id).with_for_update()
        )
        if registration is None or registration.confirmation_hash is None or _stale(registration):
            raise HubError("not_found", GONE)
        if registration.confirmation_failures >= MAX_CODE_FAILURES:
            raise HubError("invalid", "too many wrong codes: register again")
        expected = registration.confirmation_hash
        given = code_hash(hub.settings.secret_key, registration.id, code.strip())
        if not hmac.compare_digest(given, expected):
            registration.confirmation_failures += 1
            left = MAX_CODE_FAILURES - registration.confirmation_failures
            if left > 0:
                refusal = HubError("invalid", f"wrong code: {left} tries left")
            elif registration.confirmed:
                refusal = HubError("invalid", "too many wrong codes")
            else:
                await _erase(session, [registration.id])
                refusal = HubError("invalid", "wrong code, no tries left: register again")
        elif not registration.confirmed:
            expires = registration.confirmation_expires_at
            if expires is None or expires < utcnow():
                raise HubError("invalid", "the code has expired: register again")
            registration.confirmed = True
            await session.execute(
                update(RegistrationPlace)
                .where(col(RegistrationPlace.registration_id) == registration.id)
                .values(confirmed=True)
            )
    # A refusal is raised after the commit: the wrong try it counts must stay counted.
    if refusal is not None:
        log.info("self-registration %s: a wrong code (%s)", registration_id, refusal.message)
        raise refusal
    log.info("self-registration %s confirmed", registration_id)


async def unsubscribe(hub: Hub, registration_id: str, token: str, *, client: str) -> None:
    """Deletes the registration, its places and every message of it (queued or sent: the
    address is personal data). A wrong token and an unknown id get the same not_found."""
    assert hub.public is not None and hub.settings.secret_key is not None
    hub.public.client(client)
    expected = unsubscribe_token(hub.settings.secret_key, registration_id)
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise HubError("not_found", GONE)
    async with hub.db.write() as session:
        if not await _erase(session, [registration_id]):
            raise HubError("not_found", GONE)
    log.info("registration %s unsubscribed and erased", registration_id)


async def purge_unconfirmed(hub: Hub) -> int:
    """Deletes the self-registrations left unconfirmed for UNCONFIRMED_KEPT (with their places
    and messages); answers how many. `crisishub registrations purge-unconfirmed`."""
    cutoff = utcnow() - UNCONFIRMED_KEPT
    async with hub.db.write() as session:
        ids = list(
            await session.scalars(
                select(col(Registration.id)).where(
                    col(Registration.confirmed).is_(False),
                    col(Registration.external_id).is_(None),
                    col(Registration.created_at) < cutoff,
                )
            )
        )
        purged = await _erase(session, ids)
    log.info("purged %d self-registrations left unconfirmed for %s", purged, UNCONFIRMED_KEPT)
    return purged


def _stale(registration: Registration) -> bool:
    """Unconfirmed past the purge age: as if purged already."""
    created = registration.created_at
    return not registration.confirmed and created < utcnow() - UNCONFIRMED_KEPT


async def _erase(session: AsyncSession, ids: list[str]) -> int:
    """Deletes registrations with their messages and places (explicitly, not only by the
    foreign keys' cascade: erasure must not hang on a connection's PRAGMA); how many."""
    erased = 0
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        await session.execute(
            delete(OutboxMessage).where(col(OutboxMessage.registration_id).in_(batch))
        )
        await session.execute(
            delete(RegistrationPlace).where(col(RegistrationPlace.registration_id).in_(batch))
        )
        result = await session.execute(delete(Registration).where(col(Registration.id).in_(batch)))
        assert isinstance(result, CursorResult)
        erased += result.rowcount
    return erased
