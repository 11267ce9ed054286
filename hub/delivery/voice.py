"""Voice calls through an HTTP gateway (`VOICE_URL`): each delivery is one
`POST VOICE_URL` with `{"to": E.164, "language": "fr", "text": …}` (JSON), the gateway
placing the call and reading the text (hub/alerts/texts.py `voice_text`).

At most ALERT_VOICE_CONCURRENCY calls are handed over at once (a gateway's lines). A 2xx answer
is `sent` (its JSON `id`, if any, is the provider_id); 429 and 503 slow the channel down and
retry, as do other 5xx and a connection that fails; any other 4xx fails the delivery with the
gateway's status and the start of its answer.
"""

from __future__ import annotations

from typing import Any

import httpx

from hub.delivery.channel import Outgoing, Retry, gateway_refusal
from hub.logs import without_secret


class VoiceChannel:
    name = "voice"

    def __init__(self, url: str, concurrency: int) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("VOICE_URL must be an http:// or https:// address")
        self._url = url
        self.concurrency = concurrency
        # Calls are paced by the lines, not by a rate.
        self.per_second = float(concurrency) * 10
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(30.0),
            limits=httpx.Limits(max_connections=concurrency),
        )

    def describe(self) -> str:
        return without_secret(self._url)

    async def send(self, message: Outgoing) -> str:
        body = {"to": message.address, "language": message.language, "text": message.text}
        try:
            answer = await self._http.post(self._url, json=body)
        except httpx.HTTPError as error:
            raise Retry(f"voice gateway unreachable: {type(error).__name__}") from None
        status = answer.status_code
        if 200 <= status < 300:
            found: Any = None
            try:
                found = answer.json()
            except ValueError:
                pass
            if isinstance(found, dict) and isinstance(found.get("id"), str | int):
                return str(found["id"])
            return f"HTTP {status}"
        raise gateway_refusal("voice gateway", status, answer.text)

    async def close(self) -> None:
        await self._http.aclose()
