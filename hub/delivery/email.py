"""E-mail over SMTP (aiosmtplib): `SMTP_URL` is `smtp://user:pass@host:port` (STARTTLS when
the server offers it) or `smtps://…` (TLS from the start).

Each message is multipart/alternative, text and HTML in the recipient's language, with
`List-Unsubscribe` (the registration's link) and a Message-ID made from the outbox row's id:
a message handed over twice (an instance killed between the hand-over and its record) keeps
its Message-ID, so the two copies can be told apart as one. Connections are kept open and
shared: `connections` of them, each sending one message at a time.
"""

from __future__ import annotations

import asyncio
import html
import re
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

import aiosmtplib

from hub.delivery.channel import Outgoing, Refused, Retry
from hub.logs import without_secret

_URL = re.compile(r"https?://[^\s<>\"]+")


def html_body(text: str, language: str) -> str:
    """The text as HTML: paragraphs at blank lines, links clickable, everything escaped."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        escaped = html.escape(paragraph)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    return f'<!DOCTYPE html><html lang="{language}"><body>{"".join(paragraphs)}</body></html>'


def message_id(outbox_id: int, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<outbox-{outbox_id}@{domain}>"


def build(message: Outgoing, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.address
    mail["Subject"] = message.subject or ""
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(message.id, sender)
    if message.unsubscribe:
        mail["List-Unsubscribe"] = f"<{message.unsubscribe}>"
    mail.set_content(message.text)
    mail.add_alternative(html_body(message.text, message.language), subtype="html")
    # After the parts: making the alternative moves every Content-* header into the first.
    mail["Content-Language"] = message.language
    return mail


class SmtpChannel:
    name = "email"

    def __init__(self, url: str, sender: str, per_second: float, connections: int) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://…")
        self._url = url
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.per_second = per_second
        self.concurrency = connections
        self._idle: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        self._open = 0

    def describe(self) -> str:
        return without_secret(self._url)

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self._host, port=self._port, use_tls=self._tls, timeout=30
        )
        await client.connect()
        if self._user is not None:
            await client.login(self._user, self._password or "")
        return client

    async def _client(self) -> aiosmtplib.SMTP:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client.is_connected:
                return client
        return await self._connect()

    async def send(self, message: Outgoing) -> str:
        mail = build(message, self.sender)
        try:
            client = await self._client()
        except (aiosmtplib.SMTPException, OSError) as error:
            raise Retry(f"SMTP server unreachable: {error}") from None
        try:
            _refused, reply = await client.send_message(mail)
        except aiosmtplib.SMTPRecipientsRefused as error:
            self._idle.put_nowait(client)
            refused = error.recipients[0]
            if 400 <= refused.code < 500:
                raise Retry(f"SMTP {refused.code} {refused.message}") from None
            raise Refused(f"SMTP {refused.code} {refused.message}") from None
        except aiosmtplib.SMTPResponseException as error:
            self._idle.put_nowait(client)
            if 400 <= error.code < 500:
                raise Retry(f"SMTP {error.code} {error.message}", throttled=True) from None
            raise Refused(f"SMTP {error.code} {error.message}") from None
        except (aiosmtplib.SMTPException, OSError) as error:
            client.close()
            raise Retry(f"SMTP connection lost: {error}") from None
        self._idle.put_nowait(client)
        return reply[:200]

    async def close(self) -> None:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
