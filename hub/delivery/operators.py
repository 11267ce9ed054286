"""The mobile operators' CAP gateways (`OPERATOR_CAP_URLS`): every CAP message of an alert
whose channels include `operators` is one delivery per gateway (outbox channel `cap`, the
gateway's URL as the address), POSTed as `application/cap+xml`; the operators turn it into
location-based SMS and cell broadcast.

A 2xx answer is the operator's acknowledgement, kept (its first 200 characters) as the
delivery's provider_id; 429 and 503 slow down and retry, as do other 5xx and a failed
connection; any other 4xx fails the delivery with the gateway's status.
"""

from __future__ import annotations

import httpx

from hub.delivery.channel import Outgoing, Retry, gateway_refusal
from hub.logs import without_secret

CAP_MEDIA_TYPE = "application/cap+xml"


class OperatorChannel:
    name = "cap"

    def __init__(self, urls: list[str]) -> None:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError("OPERATOR_CAP_URLS must be http:// or https:// addresses")
        self._urls = urls
        self.concurrency = max(1, len(urls))
        self.per_second = 100.0
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0))

    def describe(self) -> str:
        return ", ".join(without_secret(url) for url in self._urls)

    async def send(self, message: Outgoing) -> str:
        try:
            answer = await self._http.post(
                message.address,
                content=message.text.encode(),
                headers={"Content-Type": CAP_MEDIA_TYPE},
            )
        except httpx.HTTPError as error:
            raise Retry(f"operator gateway unreachable: {type(error).__name__}") from None
        status = answer.status_code
        if 200 <= status < 300:
            return answer.text.strip()[:200] or f"HTTP {status}"
        raise gateway_refusal("operator gateway", status, answer.text)

    async def close(self) -> None:
        await self._http.aclose()
