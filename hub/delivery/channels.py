"""The channels this hub's settings configure (each by its URL; none without it)."""

from __future__ import annotations

from hub.delivery.channel import Channel
from hub.delivery.email import SmtpChannel
from hub.delivery.operators import OperatorChannel
from hub.delivery.sms import SmppChannel
from hub.delivery.voice import VoiceChannel
from hub.settings import Settings


def configured(settings: Settings) -> list[Channel]:
    channels: list[Channel] = []
    if settings.smtp_url:
        channels.append(
            SmtpChannel(
                settings.smtp_url,
                settings.smtp_from,
                settings.alert_email_per_second,
                settings.alert_email_connections,
            )
        )
    if settings.smpp_url:
        channels.append(
            SmppChannel(
                settings.smpp_url,
                settings.alert_sms_per_second,
                settings.smpp_source,
                timeout_s=settings.smpp_timeout_s,
            )
        )
    if settings.voice_url:
        channels.append(VoiceChannel(settings.voice_url, settings.alert_voice_concurrency))
    if settings.operator_cap_urls:
        channels.append(OperatorChannel(settings.operator_cap_urls))
    return channels
