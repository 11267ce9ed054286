"""Who is calling: argon2id passwords, hashed bearer tokens, signed session cookies."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import SimpleCookie

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, Signer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.public import actor_public, author_public
from models import ApiToken, Organisation, User
from models.base import utcnow
from models.events import ActorPublic, AuthorPublic

SESSION_COOKIE = "crisishub_session"
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "chk_"

# argon2-cffi's defaults are RFC 9106's low-memory profile of argon2id.
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not a real password")


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, as every action and event sees them."""

    user_id: str
    username: str
    name: str
    organisation: str
    discipline: str
    is_admin: bool
    token_id: str

    def actor(self) -> ActorPublic:
        return actor_public(self.user_id, self.name, self.organisation)

    def author(self) -> AuthorPublic:
        return author_public(self.user_id, self.name, self.organisation, self.discipline)

    def public(self) -> dict[str, str | bool]:
        """The calling user as /api/me and the pages show them."""
        return {
            "id": self.user_id,
            "username": self.username,
            "name": self.name,
            "organisation": self.organisation,
            "discipline": self.discipline,
            "is_admin": self.is_admin,
        }


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (as GitHub does); a database
    # leak still yields no usable token.
    return hashlib.sha256(raw.encode()).hexdigest()


async def principal_for_token(session: AsyncSession, raw: str) -> Principal | None:
    found = await principal_until(session, raw)
    return None if found is None else found[0]


async def principal_until(
    session: AsyncSession, raw: str
) -> tuple[Principal, datetime | None] | None:
    """The principal of a token and when the token ends by itself (a session's lifetime;
    None for an API token), or None when the token is not valid now."""
    return (await principals_until(session, [raw])).get(raw)


# Tokens read in one query by principals_until at most (SQLite's bound parameters).
MAX_TOKENS_PER_READ = 500


async def principals_until(
    session: AsyncSession, raws: Iterable[str]
) -> dict[str, tuple[Principal, datetime | None]]:
    """principal_until for many tokens in one query (the connects in flight, issue 18): each
    valid one's principal and end, keyed by the raw token; a token not valid now is absent.
    At most MAX_TOKENS_PER_READ tokens."""
    by_digest = {token_digest(raw): raw for raw in raws if raw and len(raw) <= 200}
    if not by_digest:
        return {}
    if len(by_digest) > MAX_TOKENS_PER_READ:
        raise ValueError(f"at most {MAX_TOKENS_PER_READ} tokens per read")
    # Columns, not ORM objects: this runs for every connect and every API request.
    rows = (
        await session.execute(
            select(
                col(ApiToken.token_hash),
                col(ApiToken.id),
                col(ApiToken.kind),
                col(ApiToken.created_at),
                col(ApiToken.revoked_at),
                col(User.id),
                col(User.username),
                col(User.display_name),
                col(User.discipline),
                col(User.is_admin),
                col(User.active),
                col(Organisation.name),
            )
            .join(User, col(User.id) == col(ApiToken.user_id))
            .join(Organisation, col(Organisation.id) == col(User.organisation_id))
            .where(col(ApiToken.token_hash).in_(list(by_digest)))
        )
    ).all()
    found: dict[str, tuple[Principal, datetime | None]] = {}
    now = utcnow()
    for row in rows:
        digest, token_id, kind, created_at, revoked_at, user_id, username, name = row[:8]
        discipline, is_admin, active, organisation = row[8:]
        if revoked_at is not None or not active:
            continue
        until = created_at + SESSION_LIFETIME if kind == "session" else None
        if until is not None and until < now:
            continue  # the cookie's max_age is a hint to the browser; this is the rule
        principal = Principal(
            user_id=user_id,
            username=username,
            name=name,
            organisation=organisation,
            discipline=discipline,
            is_admin=is_admin,
            token_id=token_id,
        )
        found[by_digest[digest]] = (principal, until)
    return found


class SessionCookies:
    """The browser session cookie: a session token signed with SECRET_KEY."""

    def __init__(self, secret_key: str) -> None:
        self._signer = Signer(secret_key, salt="crisishub.session")

    def dump(self, raw_token: str) -> str:
        return self._signer.sign(raw_token).decode()

    def load(self, cookie_value: str | None) -> str | None:
        if not cookie_value:
            return None
        try:
            return self._signer.unsign(cookie_value).decode()
        except BadSignature:
            return None

    def from_header(self, cookie_header: str | None) -> str | None:
        if not cookie_header:
            return None
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
        except Exception:
            return None
        morsel = jar.get(SESSION_COOKIE)
        return self.load(morsel.value if morsel else None)
