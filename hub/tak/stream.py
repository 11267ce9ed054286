"""Framing of a TAK stream: CoT XML events (each ends with `</event>`) and TAK protocol v1
stream frames (the magic byte 0xbf, a varint length, a protobuf TakMessage), in any mix.

Sans I/O: `Framer.feed` takes the bytes read and returns the whole frames they complete. It
never buffers more than MAX_UNTERMINATED_BYTES: past that it raises StreamError, and the
connection is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.tak.limits import MAX_EVENT_BYTES, MAX_UNTERMINATED_BYTES

END = b"</event>"
MAGIC = 0xBF
WHITESPACE = b" \t\r\n\x00"
MAX_VARINT_BYTES = 10


class StreamError(Exception):
    """The stream cannot be read on: the connection is closed (the message says why)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One event's bytes: `xml` (the event, with its declaration if any), `proto` (the
    TakMessage payload, without magic and length), or `oversized` (an XML event longer than
    MAX_EVENT_BYTES: `data` is empty, `size` says how long it was)."""

    kind: Literal["xml", "proto", "oversized"]
    data: bytes
    size: int


class Framer:
    def __init__(self) -> None:
        self._buffer = bytearray()
        # Where the search for `</event>` goes on from: bytes before it were searched already.
        self._searched = 0

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while True:
            frame = self._next()
            if frame is None:
                break
            frames.append(frame)
        return frames

    def _next(self) -> Frame | None:
        buffer = self._buffer
        start = 0
        while start < len(buffer) and buffer[start] in WHITESPACE:
            start += 1
        if start:
            del buffer[:start]
            self._searched = max(0, self._searched - start)
        if not buffer:
            return None
        if buffer[0] == MAGIC:
            return self._proto()
        end = buffer.find(END, max(0, self._searched - len(END) + 1))
        if end < 0:
            self._searched = len(buffer)
            if len(buffer) > MAX_UNTERMINATED_BYTES:
                raise StreamError(f"no </event> in {len(buffer)} bytes")
            return None
        stop = end + len(END)
        size = stop
        frame = (
            Frame("oversized", b"", size)
            if size > MAX_EVENT_BYTES
            else Frame("xml", bytes(buffer[:stop]), size)
        )
        del buffer[:stop]
        self._searched = 0
        return frame

    def _proto(self) -> Frame | None:
        buffer = self._buffer
        length = 0
        shift = 0
        position = 1
        while True:
            if position >= len(buffer):
                return None  # the length is not all here yet
            byte = buffer[position]
            length |= (byte & 0x7F) << shift
            position += 1
            if not byte & 0x80:
                break
            shift += 7
            if position > MAX_VARINT_BYTES:
                raise StreamError("TAK protocol v1: malformed length")
        if length == 0 or length > MAX_EVENT_BYTES:
            raise StreamError(
                f"TAK protocol v1: a frame of {length} bytes (limit {MAX_EVENT_BYTES})"
            )
        stop = position + length
        if len(buffer) < stop:
            return None
        frame = Frame("proto", bytes(buffer[position:stop]), length)
        del buffer[:stop]
        self._searched = 0
        return frame
