"""A contact's means of contact checked and written one way: numbers in E.164 (phonenumbers,
Belgian numbers understood without their +32), e-mail addresses with their domain in lower
case, ASTRID radio ids as given."""

from __future__ import annotations

import re

import phonenumbers

from hub.errors import HubError
from models.contact import ContactMethodIn, MethodType
from models.events import ContactMethodPublic

_NUMBERS = {MethodType.PHONE, MethodType.MOBILE, MethodType.FAX}
# Not RFC 5322 in full: one @, something before, a dotted domain after, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_REGION = "BE"


def clean_method(method: ContactMethodIn, where: str = "methods") -> ContactMethodPublic:
    value = method.value.strip()
    if method.type in _NUMBERS:
        try:
            number = phonenumbers.parse(value, DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            raise HubError("invalid", f"{where}: {value!r} is not a telephone number") from None
        if not phonenumbers.is_valid_number(number):
            raise HubError("invalid", f"{where}: {value!r} is not a valid telephone number")
        value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    elif method.type is MethodType.EMAIL:
        if not _EMAIL.match(value):
            raise HubError("invalid", f"{where}: {value!r} is not an e-mail address")
        local, domain = value.rsplit("@", 1)
        value = f"{local}@{domain.lower()}"
    return {"type": method.type.value, "value": value, "label": method.label, "h24": method.h24}


def clean_methods(methods: list[ContactMethodIn]) -> list[ContactMethodPublic]:
    return [clean_method(method, f"methods.{i}") for i, method in enumerate(methods)]


def display_number(value: str) -> str:
    """An E.164 number as people read it (+32 2 208 11 11), for files meant for people."""
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
