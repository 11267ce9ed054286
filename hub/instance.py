"""One serving hub instance: every part built once, in order, by `Instance(settings)` (which
create_app calls), each a typed attribute; started and stopped by the lifespan.

The order is what each part needs: the Redis sync is the socket server's client manager, the
socket server is what the hub's notifier emits through, the hub context is what the socket
handlers, the positions pipeline and the feed's group commit act on. Control messages are the
one loop: the notifier and the Redis sync are made before the socket handlers that apply them
(the handlers need the hub, whose notifier needs somewhere to apply them), so both are made
with `apply_control`, a method of this instance that hands each message to the handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import socketio

from hub.actions.alerts import public_base
from hub.actions.feed import FeedCommits
from hub.actions.self_registration import unsubscribe_link
from hub.context import Hub
from hub.convoys.ingest import start_tracking
from hub.convoys.pipeline import PositionPipeline
from hub.db import Database
from hub.delivery.channels import configured
from hub.delivery.progress import ProgressReports
from hub.delivery.worker import Deliveries
from hub.realtime.fanout import FastDelivery, HubManager
from hub.realtime.handlers import SocketHandlers
from hub.realtime.internals import JsonPackets
from hub.realtime.notify import Notifier
from hub.realtime.presence import LocalPresence
from hub.realtime.redis_manager import InstanceSync, RedisSync, presence_for
from hub.realtime.server import HubServer
from hub.settings import Settings
from hub.tak.bridge import TakBridge
from hub.tak.listener import TakListener, tls_context
from hub.tak.position import Registrations
from models.base import new_id
from models.limits import MAX_WIRE_BYTES

log = logging.getLogger(__name__)


class _OrjsonPackets:
    """python-socketio's JSON module hook: orjson encodes faster than the stdlib."""

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(data)


class Instance:
    """What one `crisishub serve` process runs. `sync` and `redis` are None without REDIS_URL
    (one instance, no Redis)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        fast = settings.fanout == "fast"
        self.sync: RedisSync | None = None
        manager: socketio.AsyncManager
        if settings.redis_url:
            self.sync = RedisSync(
                settings.redis_url,
                probe_interval=settings.redis_probe_interval,
                json=_OrjsonPackets,
                on_control=self.apply_control,
                on_recovered=self.resync,
            )
            manager = self.sync
        else:
            # encode once, queue for every recipient without a task each (fanout.py)
            manager = HubManager() if fast else socketio.AsyncManager()
        self.sio = HubServer(
            client_manager=manager,
            async_mode="asgi",
            # None: Engine.IO's same-origin rule (the Host header, or X-Forwarded-* behind a
            # proxy), which is "the hub's own origin" wherever it is deployed.
            cors_allowed_origins=settings.allowed_origins or None,
            max_http_buffer_size=MAX_WIRE_BYTES,  # long-polling bodies; websockets: serving.py
            max_queue=settings.max_client_queue,
            fast_fanout=fast,
            json=_OrjsonPackets,
            serializer=JsonPackets,  # the binary check of each packet by orjson
            ping_interval=20,
            ping_timeout=20,
        )
        presence = presence_for(settings, self.sync) if self.sync is not None else None
        self.hub = Hub(
            settings=settings,
            db=Database(settings.database_url),
            notifier=Notifier(
                self.sio,
                control_handler=self.apply_control,
                relay=self.sync.publish_control if self.sync is not None else None,
            ),
            presence=presence if presence is not None else LocalPresence(),
            feed_commits_for=FeedCommits,
        )
        fast_manager = manager if isinstance(manager, FastDelivery) else None
        self.handlers = SocketHandlers(
            self.hub,
            self.sio,
            None if fast_manager is None else fast_manager.recent_events,
            None if fast_manager is None else fast_manager.shared_snapshots,
        )
        self.positions = PositionPipeline(self.hub)
        self.redis: InstanceSync | None = None
        if self.sync is not None and presence is not None:
            self.redis = InstanceSync(
                settings, self.hub, self.sio, self.handlers, self.sync, presence
            )
        # TAK devices (hub/tak/): None unless TAK_COT_PORT or TAK_TLS_PORT is set.
        self.tak: TakListener | None = None
        self.tak_bridge: TakBridge | None = None
        if settings.tak_cot_port is not None or settings.tak_tls_port is not None:
            self.tak_bridge = TakBridge(self.hub)
            self.tak = TakListener(
                self.hub,
                self.positions,
                self.tak_bridge,
                Registrations(self.hub),
                tls_context(settings),
            )
        # Delivery of the outbox (hub/delivery/): a worker per channel SMTP_URL etc. configure.
        self.progress = ProgressReports(self.hub)
        self.deliveries = Deliveries(
            self.hub,
            configured(settings),
            owner=new_id()[:16],
            link=lambda registration_id: unsubscribe_link(
                self.hub, public_base(self.hub), registration_id
            ),
            changed=self.progress.changed,
        )
        self._stop_tracking: Callable[[], Awaitable[None]] | None = None

    async def apply_control(self, message: dict[str, Any]) -> None:
        """A control message, from this instance (the notifier) or another (the Redis sync),
        applied to this instance's sockets."""
        await self.handlers.apply_control(message)

    async def resync(self, missed: set[str]) -> None:
        """Redis is back (the sync's `on_recovered`)."""
        if self.redis is not None:
            await self.redis.recovered(missed)

    async def readiness(self) -> dict[str, str]:
        """What /readyz reports beyond the database: the Redis sync's state, when there is one."""
        return {} if self.sync is None else await self.sync.readiness()

    async def start(self) -> None:
        # The convoy pipeline first, so that it closes last (after Redis stops feeding it).
        self._stop_tracking = await start_tracking(self.hub, self.positions, self.handlers)
        if self.redis is not None:
            await self.redis.start()
        # TAK last (its devices' fixes need the pipeline), so that it closes first.
        if self.tak_bridge is not None and self.tak is not None:
            await self.tak_bridge.start()
            await self.tak.start()
        await self.progress.start()
        await self.deliveries.start()

    async def close(self) -> None:
        await self.deliveries.close()
        await self.progress.close()
        if self.tak is not None and self.tak_bridge is not None:
            await self.tak.close()
            await self.tak_bridge.close()
        if self.redis is not None:
            await self.redis.close()
        if self._stop_tracking is not None:
            await self._stop_tracking()
        self.handlers.presence.close()
        await self.hub.presence.close()
        await self.hub.db.dispose()
