"""What each channel says (pure): the exercise and test marker every such text starts with,
the SMS, voice and e-mail renderings of an alert's text in one language, and how many SMS
segments a text needs.

SMS segments (3GPP TS 23.038 / 23.040): a text that GSM 03.38 can encode is counted in septets
(the extension table's characters, such as € and {, take two), 160 in one segment and 153 in
each part of a concatenated message; any other text is UCS-2, counted in UTF-16 code units,
70 in one segment and 67 in each part.
"""

from __future__ import annotations

from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

from models.alert import CapStatus

# The word an Exercise or Test text starts with, in the reader's language.
EXERCISE_WORDS = {"fr": "EXERCICE", "nl": "OEFENING", "de": "ÜBUNG", "en": "EXERCISE"}
TEST_WORD = "TEST"
# CAP `language` of each registration language (RFC 3066 tags, as Belgium's CAP profile).
CAP_LANGUAGES = {"fr": "fr-BE", "nl": "nl-BE", "de": "de-BE", "en": "en-GB"}


def marker(cap_status: str, language: str) -> str:
    """The word a text of this status starts with ("" for an Actual alert)."""
    if cap_status == CapStatus.EXERCISE.value:
        return EXERCISE_WORDS[language]
    if cap_status == CapStatus.TEST.value:
        return TEST_WORD
    return ""


def marked(text: str, cap_status: str, language: str) -> str:
    """`text` starting with its status's marker (once, even if the author typed it)."""
    word = marker(cap_status, language)
    if not word or text.startswith(word):
        return text
    return f"{word} - {text}"


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets or UTF-16 code units
    segments: int


def sms_segments(text: str) -> Segments:
    try:
        units = len(text.encode("gsm03.38"))
    except UnicodeEncodeError:
        units = len(text.encode("utf-16-le")) // 2
        return Segments("UCS-2", units, 1 if units <= 70 else -(-units // 67))
    return Segments("GSM-7", units, 1 if units <= 160 else -(-units // 153))


@dataclass(frozen=True, slots=True)
class Text:
    headline: str
    description: str
    instruction: str


def sms_text(text: Text, cap_status: str, language: str, unsubscribe: str) -> str:
    """Headline and instruction (what to do, the part that must arrive), then the
    unsubscribe link; the description is on the public page and in the e-mail."""
    return marked(f"{text.headline}. {text.instruction}\n{unsubscribe}", cap_status, language)


def voice_text(text: Text, cap_status: str, language: str) -> str:
    """What the voice call reads: all of it, the instruction twice (people hear the end)."""
    body = f"{text.headline}. {text.description} {text.instruction} {text.instruction}"
    return marked(body, cap_status, language)


def email_message(
    text: Text, cap_status: str, language: str, page: str, unsubscribe: str
) -> tuple[str, str]:
    """(subject, body) of the e-mail: everything, the public page and the unsubscribe link."""
    subject = marked(text.headline, cap_status, language)
    body = marked(
        f"{text.headline}\n\n{text.description}\n\n{text.instruction}\n\n{page}\n\n{unsubscribe}",
        cap_status,
        language,
    )
    return subject, body


# What a Cancel tells those who received the alert, in their language.
CANCEL_WORDS = {"fr": "ANNULÉ", "nl": "GEANNULEERD", "de": "AUFGEHOBEN", "en": "CANCELLED"}
CANCEL_INSTRUCTIONS = {
    "fr": "Cette alerte est levée: ses consignes ne s'appliquent plus.",
    "nl": "Deze waarschuwing is opgeheven: de richtlijnen gelden niet meer.",
    "de": "Diese Warnung ist aufgehoben: ihre Anweisungen gelten nicht mehr.",
    "en": "This alert is lifted: its instructions no longer apply.",
}


def cancelled(text: Text, language: str) -> Text:
    """The text a Cancel sends: the alert's headline marked as cancelled, and that its
    instructions no longer apply (the status marker is added by each rendering, in front)."""
    return Text(
        f"{CANCEL_WORDS[language]}: {text.headline}",
        text.description,
        CANCEL_INSTRUCTIONS[language],
    )
