"""Size and shape limits on everything a client can send (documented in README, "Limits")."""

MAX_TEXT_CHARS = 10_000
MAX_REASON_CHARS = 1_000
MAX_LABEL_CHARS = 200
MAX_TITLE_CHARS = 200
MAX_NAME_CHARS = 100
MAX_PROPERTIES_BYTES = 16_384
MAX_VERTICES = 10_000
MAX_PARTS = 500
MAX_MESSAGE_BYTES = 1_000_000
# Objects and arrays nested deeper than this anywhere in a payload (the payload itself is
# level 1) are refused: orjson cannot encode more than 255 levels, so a deeper value that was
# stored could never be sent or read back again. GeoJSON needs 5 at most.
MAX_JSON_DEPTH = 32
# One websocket frame or long-polling body: a message of MAX_MESSAGE_BYTES and its framing,
# so that 1 MB gets "too_large" from the shapes rather than a closed connection.
MAX_WIRE_BYTES = MAX_MESSAGE_BYTES + 65_536
# An evaluation point is one finding, not a report: a few paragraphs at most, so that the
# logbook's evaluation section stays readable.
MAX_EVALUATION_CHARS = 4_000
# A feed entry's `written_at` (when its author wrote it, queued offline): a device clock may
# run this far ahead of the hub's; an entry written longer ago than this is refused, since no
# queue holds a post that long and a wrong clock would date it to another day.
MAX_WRITTEN_AHEAD_S = 300
MAX_WRITTEN_AGE_DAYS = 7
