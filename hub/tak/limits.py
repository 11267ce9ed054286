"""Every bound of the TAK listener, in one place (docs/protocol-additions.md, "TAK (issue 17)").

Each is per connection unless it says otherwise, so that a hostile or broken device only ever
costs its own connection: other devices' events go on being read and stored.
"""

from __future__ import annotations

# A stream with no `</event>` (nor a TAK protocol v1 frame) for this many bytes is closed: it
# is not CoT, or it is trying to make the hub buffer without end.
MAX_UNTERMINATED_BYTES = 1_048_576
# One event, XML or protobuf. A longer XML event (its end found) is ignored; a protobuf frame
# announcing a longer payload closes the connection (its length cannot be trusted to resync).
MAX_EVENT_BYTES = 65_536
# Bytes read from the socket at a time.
READ_CHUNK_BYTES = 65_536
# Fixes of one connection waiting for their batch's commit: beyond this the connection is not
# read until some are stored (TCP flow control then slows the device, not the hub).
MAX_FIXES_IN_FLIGHT = 256
# Bytes queued for a device that does not read (anchors sent to it): beyond this it is closed.
MAX_OUTPUT_BUFFER_BYTES = 1_048_576
# A TLS client that has not finished its handshake after this long is dropped.
TLS_HANDSHAKE_TIMEOUT_S = 10.0
# How long the registration of a CoT uid (its vehicle, its incident open or closed) is reused
# before it is read again; unknown uids are remembered as long, so a flood of them costs one
# look-up each per interval. At most UID_CACHE_MAX uids are remembered (then forgotten at once).
UID_CACHE_S = 5.0
UID_CACHE_MAX = 10_000
# Incident event-log entries read per incident and per follow tick (the bridge catches up over
# several ticks when more changed).
FOLLOW_BATCH = 500
# Anchors are sent with this `stale` (TAK drops an item once stale) and sent again to each
# connection after ANCHOR_REFRESH_S, so that a long-lived connection never loses them.
ANCHOR_STALE_S = 86_400.0
ANCHOR_REFRESH_S = 43_200.0
# Parts of a multi-geometry anchor sent as separate CoT items (a MultiPolygon of more is cut).
MAX_PARTS_SENT = 50
