"""Many hub instances through Redis (REDIS_URL): events, control messages and presence.

python-socketio's AsyncRedisManager carries `emit`s between instances, but it is
at-most-once and fragile: its publish gives up after two tries, its listener can stop for
good without a word (python-socketio issues 1411, 1569, 1581), and a reconnect of the
publisher swaps the listener's connection under it. RedisSync keeps its wire format and
replaces the parts that fail:

- local delivery comes first and never waits for Redis; a publish that fails is recorded,
  not retried blindly, and while Redis is known to be down publishes are skipped at once
  (a circuit breaker closed again by the next successful probe);
- the publisher and the subscriber have their own connections; the subscriber is a task
  this module owns, restarted when it fails;
- every second the instance publishes a probe to itself and expects to hear it back
  within a few seconds; if not, it reports it (`/readyz`) and resubscribes;
- when Redis is back, it resyncs: the latest event of every incident whose publish was
  lost goes out again, and each instance re-sends the latest event of the incidents its
  own clients watch. Clients that missed something see a gap and recover by seq
  (design principle 2); those that did not drop the duplicate.
- control messages (a token revoked, a member removed) travel on the same channel, are
  applied idempotently, are queued while Redis is down, and every instance re-checks its
  sockets against the database periodically, so they take effect even if a message is
  lost.

The manager's private hooks (its publish, its listener, its share of each emit) are reached
through hub/realtime/internals.py's RedisHooks, which names the versions it was written for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy import select
from sqlmodel import col

from hub.context import Hub
from hub.public import event_public
from hub.realtime.fanout import FastDelivery
from hub.realtime.handlers import SocketHandlers
from hub.realtime.internals import RedisHooks
from hub.realtime.notify import INCIDENT_ROOM, ControlHandler, Notifier
from hub.realtime.presence import LocalPresence, unique_users
from hub.realtime.server import HubServer
from hub.settings import Settings
from models import ApiToken, Event, Membership, User
from models.events import EventPublic, OnlineUser

log = logging.getLogger(__name__)

CHANNEL = "crisishub"
PRESENCE_KEY = "crisishub:presence:"
# The bound on a lost control message: each instance re-checks its sockets' tokens and
# memberships against the database this often (and whenever Redis comes back).
ACCESS_RECHECK_SECONDS = 30.0


def redis_client(url: str, *, read_timeout: float | None = 2.0) -> aioredis.Redis:
    """Short timeouts and one immediate retry (a pooled connection may predate a restart):
    the caller decides what a failure means, the client must not hide it for seconds."""
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=1.0,
        socket_timeout=read_timeout,
        retry=Retry(NoBackoff(), 1),
    )


Recovered = Callable[[set[str]], Awaitable[None]]


class InFlight:
    """The commands under way on a client. Closing waits for them (a bounded time) before it
    closes the client's pool: a command whose connection the pool's disconnect cut would be
    retried (the client's one retry) on a fresh connection that nothing closes any more."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def __enter__(self) -> None:
        self.count += 1
        self._idle.clear()

    def __exit__(self, *_: object) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def settle(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)


class RedisSync(FastDelivery, RedisHooks):
    """The Socket.IO client manager of a hub instance that shares its rooms through Redis.

    `on_control` applies a control message from another instance to this one's sockets;
    `on_recovered` resyncs once Redis is back (InstanceSync.recovered), given the incident
    rooms whose publish was lost. A write-only manager (the CLI's) has neither."""

    def __init__(
        self,
        url: str,
        *,
        write_only: bool = False,
        probe_interval: float = 1.0,
        probe_timeout: float = 3.0,
        json: Any = None,
        on_control: ControlHandler | None = None,
        on_recovered: Recovered | None = None,
    ) -> None:
        super().__init__(url, channel=CHANNEL, write_only=write_only, logger=log, json=json)
        self.url = url
        self.publisher_client: aioredis.Redis | None = None  # made at the first publish
        self.probe_interval = probe_interval
        self.probe_timeout = probe_timeout
        self.on_control = on_control
        self.on_recovered = on_recovered
        self.publisher_ok = True  # optimistic until a publish fails
        self.subscribed = False
        self.state = "starting"
        self.missed_rooms: set[str] = set()  # incident rooms whose publish was lost
        self.pending_controls: deque[dict[str, Any]] = deque(maxlen=1000)
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._last_echo = 0.0
        self._reader: asyncio.Task[None] | None = None
        self._reader_started = 0.0
        self._watchdog: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._down_since: float | None = None
        self._closed = False  # then no new connection: one opened after close() would leak
        self._publishing = InFlight()

    def local_only(self, options: dict[str, Any]) -> bool:
        # Other emits are published; this host delivers them when they come back (_handle_emit).
        return bool(options.get("ignore_queue"))

    # publishing -----------------------------------------------------------------------------

    def _publisher(self) -> aioredis.Redis:
        if self._closed:
            raise ConnectionError("the Redis sync is closed")
        if self.publisher_client is None:
            self.publisher_client = redis_client(self.url)
        return self.publisher_client

    async def _send(self, data: dict[str, Any]) -> None:
        with self._publishing:
            await asyncio.wait_for(
                self._publisher().publish(CHANNEL, self.dumps(data)), timeout=2.0
            )

    async def publish(self, data: dict[str, Any]) -> None:
        """The manager's publish (RedisHooks): never raises, never stalls the caller while
        Redis is known to be down, and remembers what was lost so that recovery can resync it."""
        if self._closed:
            return  # shutting down: readers catch up by seq from the database
        attempts = 3 if self.write_only else 1  # a CLI command has no later chance
        for attempt in range(attempts):
            if not self.publisher_ok and not self.write_only:
                break  # the breaker is open: the watchdog's probe closes it
            try:
                await self._send(data)
                self.publisher_ok = True
                return
            except Exception as error:
                self._publish_failed(error)
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.5)
        self._lost(data)

    def _publish_failed(self, error: BaseException) -> None:
        if self.publisher_ok:
            log.warning("publish to Redis failed (%s): delivering locally only", _why(error))
        self.publisher_ok = False
        self._update_state()

    def _lost(self, data: dict[str, Any]) -> None:
        room = data.get("room")
        if (
            data.get("method") == "emit"
            and isinstance(room, str)
            and room.startswith(INCIDENT_ROOM)
        ):
            self.missed_rooms.add(room)
        elif data.get("method") == "hub.control":
            self.pending_controls.append(data["message"])

    async def publish_control(self, message: dict[str, Any]) -> None:
        """Notifier.relay: carry a control message to the other instances."""
        await self.publish(
            {"method": "hub.control", "host_id": self.instance_id, "message": message}
        )

    # subscribing ---------------------------------------------------------------------------

    async def listen(self) -> AsyncIterator[Any]:
        """What the manager's listener reads (RedisHooks): from our own reader task, which
        never dies."""
        while True:
            yield await self._inbox.get()

    async def _read(self) -> None:
        delay = 0.2
        while True:
            client = pubsub = None
            try:
                client = redis_client(self.url, read_timeout=None)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await asyncio.wait_for(pubsub.subscribe(CHANNEL), timeout=2.0)
                self.subscribed, delay = True, 0.2
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._received(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self.subscribed:
                    log.warning("Redis subscription lost (%s): resubscribing", _why(error))
                self.subscribed = False
                self._update_state()
            finally:
                self.subscribed = False
                for closing in (pubsub, client):
                    if closing is not None:
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(closing.aclose(), timeout=1.0)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _received(self, raw: bytes) -> None:
        try:
            data = self.loads(raw)
        except Exception:
            return
        if not isinstance(data, dict):
            return
        method = data.get("method")
        if method == "hub.probe":
            if data.get("host_id") == self.instance_id:
                self._last_echo = time.monotonic()
                self._update_state()
        elif method == "hub.control":
            if data.get("host_id") != self.instance_id and self.on_control is not None:
                self._spawn(self.on_control(data["message"]), "control message")
        else:
            self._inbox.put_nowait(data)

    # liveness ------------------------------------------------------------------------------

    def _restart_reader(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._reader_started = time.monotonic()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.probe_interval)
            try:
                await self._send({"method": "hub.probe", "host_id": self.instance_id})
                self.publisher_ok = True
            except Exception as error:
                self._publish_failed(error)
            now = time.monotonic()
            silent = now - self._last_echo > self.probe_timeout
            if silent and self.publisher_ok and now - self._reader_started > self.probe_timeout:
                # Redis takes our probes but we do not hear them: the listener is deaf.
                log.warning("no probe echo for %.1f s: resubscribing", now - self._last_echo)
                self._restart_reader()
            self._update_state()

    def _update_state(self) -> None:
        now = time.monotonic()
        if not self.publisher_ok:
            state = "unavailable: cannot publish to Redis"
        elif not self.subscribed:
            state = "unavailable: not subscribed to Redis"
        elif now - self._last_echo > self.probe_timeout:
            state = "unavailable: no probe echo from Redis"
        else:
            state = "ok"
        previous, self.state = self.state, state
        if state == previous:
            return
        if state == "ok":
            outage = "" if self._down_since is None else f" after {now - self._down_since:.1f} s"
            log.info("Redis sync is ok%s", outage)
            self._down_since = None
            if self.on_recovered is not None:
                missed, self.missed_rooms = self.missed_rooms, set()
                self._spawn(self._recover(missed), "resync")
        else:
            if self._down_since is None:
                self._down_since = now
            log.warning("Redis sync %s", state)

    async def _recover(self, missed: set[str]) -> None:
        while self.pending_controls:
            await self.publish_control(self.pending_controls.popleft())
        assert self.on_recovered is not None
        await self.on_recovered(missed)

    async def readiness(self) -> dict[str, str]:
        self._update_state()
        return {"redis": self.state}

    # lifecycle -----------------------------------------------------------------------------

    def initialize(self) -> None:
        super().initialize()
        if not self.write_only and self._watchdog is None:
            self._restart_reader()
            self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    def _spawn(self, work: Awaitable[Any], what: str) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("%s failed", what)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._closed = True
        tasks = [self._reader, self._watchdog, self.listener(), *self._tasks]
        for task in tasks:
            if isinstance(task, asyncio.Future):
                task.cancel()
        for task in tasks:
            if isinstance(task, asyncio.Future):
                with contextlib.suppress(BaseException):
                    await task
        if self.publisher_client is not None:
            await self._publishing.settle(timeout=2.0)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.publisher_client.aclose(), timeout=1.0)


class RedisPresence(LocalPresence):
    """Presence as the union over instances: one hash per incident, one field per instance
    holding that instance's users and an expiry, refreshed by a heartbeat; a killed
    instance's users vanish when its field expires. Without Redis: this instance's view,
    which LocalPresence keeps."""

    def __init__(
        self, url: str, instance_id: str, *, ttl: float, available: Callable[[], bool]
    ) -> None:
        super().__init__()
        self.instance_id = instance_id
        self.ttl = ttl
        self.available = available
        self.redis = redis_client(url, read_timeout=1.0)
        self._failing = False
        # A socket's disconnect can still remove its user while the instance shuts down:
        # once closed, the client takes no command, which would open a connection never closed.
        self._closed = False
        self._commands = InFlight()

    # This instance's users are LocalPresence's; Redis holds every instance's, for the union,
    # written once per coalesced change (PresenceStreams calls flush) rather than at each of
    # a join storm's thousands of joins, each of which would write the whole local list.
    async def flush(self, incident_id: str) -> None:
        await self._write(incident_id)

    def incidents(self) -> list[str]:
        return list(self._rooms)

    async def online(self, incident_id: str) -> list[OnlineUser]:
        users: list[OnlineUser] = list(self._rooms.get(incident_id, {}).values())
        fields = await self._redis(self.redis.hgetall(PRESENCE_KEY + incident_id))
        if fields:
            now, expired = time.time(), []
            for field, value in fields.items():
                instance = field.decode()
                if instance == self.instance_id:
                    continue  # our own view is authoritative and newer
                entry = orjson.loads(value)
                if entry["expires"] < now:
                    expired.append(field)
                else:
                    users.extend(entry["users"])
            if expired:
                await self._redis(self.redis.hdel(PRESENCE_KEY + incident_id, *expired))
        return unique_users(users)

    async def heartbeat(self) -> None:
        for incident_id in self.incidents():
            await self._write(incident_id)

    async def _write(self, incident_id: str) -> None:
        key = PRESENCE_KEY + incident_id
        users = list(self._rooms.get(incident_id, {}).values())
        if users:
            entry = orjson.dumps({"expires": time.time() + self.ttl, "users": users})
            pipe = self.redis.pipeline(transaction=False)
            pipe.hset(key, self.instance_id, entry)
            pipe.expire(key, int(self.ttl * 4) + 1)
            await self._redis(pipe.execute())
        else:
            await self._redis(self.redis.hdel(key, self.instance_id))

    async def _redis(self, command: Awaitable[Any]) -> Any:
        if self._closed or not self.available():
            if asyncio.iscoroutine(command):
                command.close()
            return None
        try:
            with self._commands:
                result = await asyncio.wait_for(command, timeout=1.0)
        except Exception as error:
            if not self._failing:
                log.warning("presence in Redis unavailable (%s): local view only", _why(error))
            self._failing = True
            return None
        self._failing = False
        return result

    async def close(self) -> None:
        for incident_id in self.incidents():
            await self._redis(self.redis.hdel(PRESENCE_KEY + incident_id, self.instance_id))
        self._closed = True
        await super().close()
        await self._commands.settle(timeout=1.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.redis.aclose(), timeout=1.0)


# wiring --------------------------------------------------------------------------------------


class InstanceSync:
    """What keeps one serving instance in step with the others through Redis, besides the
    client manager itself: the presence heartbeat and the presence it sends its own sockets,
    the resync once Redis is back (`recovered`, the sync's `on_recovered`), and the periodic
    access re-check. Made with the instance (hub/instance.py), started in its lifespan."""

    def __init__(
        self,
        settings: Settings,
        hub: Hub,
        sio: HubServer,
        handlers: SocketHandlers,
        sync: RedisSync,
        presence: RedisPresence,
    ) -> None:
        self.settings = settings
        self.hub = hub
        self.sio = sio
        self.handlers = handlers
        self.sync = sync
        self.presence = presence
        self._beating: asyncio.Task[None] | None = None

    async def refresh_presence(self) -> None:
        """Each incident this instance's sockets are in: the union read again and any
        difference sent to them (another instance's users expired, or Redis came back)."""
        for incident_id in self.handlers.presence.incidents():
            await self.handlers.presence.changed(incident_id, local=False)

    async def recovered(self, missed: set[str]) -> None:
        """Redis is back: the latest event of each incident whose publish was lost goes out
        again, and those of the incidents this instance's sockets watch are re-sent to them."""
        local = set(self.sio.rooms_here())
        watched = {r for r in local if isinstance(r, str) and r.startswith(INCIDENT_ROOM)}
        for room in sorted(missed | watched):
            event = await latest_event(self.hub, room.removeprefix(INCIDENT_ROOM))
            if event is not None:
                # Lost publishes go to every instance; our own rooms just need a nudge.
                await self.sio.emit(
                    "incident.event", event, room=room, ignore_queue=room not in missed
                )
        await self.presence.heartbeat()
        await self.refresh_presence()
        await recheck_access(self.hub, self.handlers)

    async def _heartbeat(self) -> None:
        rechecked = time.monotonic()
        while True:
            await asyncio.sleep(self.settings.presence_ttl_seconds / 3)
            try:
                await self.presence.heartbeat()
                await self.refresh_presence()
                if time.monotonic() - rechecked >= ACCESS_RECHECK_SECONDS:
                    rechecked = time.monotonic()
                    await recheck_access(self.hub, self.handlers)
            except Exception:
                log.exception("presence heartbeat failed")

    async def start(self) -> None:
        """Start the sync (probe, subscriber) now rather than at the first client's connect,
        and the presence heartbeat."""
        self.sio.start_manager()
        self._beating = asyncio.get_running_loop().create_task(self._heartbeat())

    async def close(self) -> None:
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(BaseException):
                await self._beating
        await self.sync.close()


def presence_for(settings: Settings, sync: RedisSync) -> RedisPresence:
    assert settings.redis_url is not None
    return RedisPresence(
        settings.redis_url,
        sync.instance_id,
        ttl=settings.presence_ttl_seconds,
        available=lambda: sync.publisher_ok,
    )


async def latest_event(hub: Hub, incident_id: str) -> EventPublic | None:
    async with hub.db.read() as session:
        row = await session.scalar(
            select(Event)
            .where(col(Event.incident_id) == incident_id)
            .order_by(col(Event.seq).desc())
            .limit(1)
        )
    return None if row is None else event_public(row)


async def recheck_access(hub: Hub, handlers: SocketHandlers) -> None:
    """Apply what a lost control message would have: sockets whose token was revoked (or
    whose user was deactivated) are disconnected, memberships that ended are left."""
    # Principals kept for connects (hub/realtime/handlers.py) are read again: this bounds how long a
    # lost token.revoked can let a revoked token connect here.
    handlers.forget_principals()
    principals = dict(handlers.principals)
    if not principals:
        return
    token_ids = {p.token_id for p in principals.values()}
    user_ids = {p.user_id for p in principals.values()}
    async with hub.db.read() as session:
        revoked = set(
            await session.scalars(
                select(col(ApiToken.id))
                .join(User, col(User.id) == col(ApiToken.user_id))
                .where(
                    col(ApiToken.id).in_(token_ids),
                    (col(ApiToken.revoked_at).is_not(None)) | (col(User.active).is_(False)),
                )
            )
        )
        members = set(
            (
                await session.execute(
                    select(col(Membership.incident_id), col(Membership.user_id)).where(
                        col(Membership.user_id).in_(user_ids)
                    )
                )
            ).all()
        )
    for token_id in revoked:
        await handlers.apply_control({"type": "token.revoked", "token_id": token_id})
    for sid, principal in principals.items():
        for incident_id in list(handlers.joined.get(sid, ())):
            if (incident_id, principal.user_id) not in members:
                await handlers.apply_control(
                    {
                        "type": "member.removed",
                        "incident_id": incident_id,
                        "user_id": principal.user_id,
                    }
                )


def cli_notifier(url: str) -> tuple[Notifier, Callable[[], Awaitable[None]]]:
    """For operator commands: a write-only manager, so their events and control messages
    reach the clients of every running instance."""
    manager = RedisSync(url, write_only=True)
    notifier = Notifier(manager, relay=manager.publish_control)
    return notifier, manager.close


def _why(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
