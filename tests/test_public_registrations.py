"""Self-registration for BE-Alert on a real hub, as the public uses it: register, read the code
from the outbox (where the next issue's SMS, voice and SMTP senders will take it), confirm,
be counted, unsubscribe; the pages in four languages without scripts; bad input; the rate
limits driven over their bursts. The hub believes X-Forwarded-For from 127.0.0.1 here, so that
each test is a client address of its own; each works in an area of its own too."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from markupsafe import escape
from playwright.async_api import async_playwright, expect
from sqlalchemy import func, select, update
from sqlmodel import col

import web.pages
from hub.actions.self_registration import unsubscribe_token
from models.base import utcnow
from models.outbox import OutboxMessage
from models.registration import Registration, RegistrationPlace
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, WATCH_CSP
from tests.test_cli import crisishub, last_line
from tests.test_registrations import square
from web.public_text import PUBLIC_LANGS, TEXT

CODES_PER_CONTACT = 3
WRITES_BURST = 20


@pytest.fixture(scope="module")
def hub_server(database_url: str, logs: Path) -> Iterator[HubProcess]:
    server = HubProcess(
        database_url,
        log_dir=logs,
        trusted_proxies="127.0.0.1",
        public_writes_burst=WRITES_BURST,
        codes_per_contact_per_hour=CODES_PER_CONTACT,
    ).start()
    yield server
    server.stop()


@pytest.fixture
def client() -> str:
    """A client address of this test's own (X-Forwarded-For, believed from 127.0.0.1)."""
    value = uuid.uuid4().int
    return f"10.{value % 250}.{(value >> 8) % 250}.{(value >> 16) % 250 + 1}"


@pytest.fixture
async def token(seed: Seeder) -> str:
    return (await seed.user("publiccount")).token


def number(base: str = "+3247") -> str:
    """A valid Belgian mobile number of this test's own."""
    return f"{base}{uuid.uuid4().int % 10**7:07d}"


def registration(lat: float, lon: float, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "language": "fr",
        "places": [{"label": "home", "lat": lat, "lon": lon}],
    }
    body.update(fields)
    return body


def post(hub: HubProcess, path: str, body: Any, client: str, **headers: str) -> httpx.Response:
    return httpx.post(f"{hub.url}{path}", json=body, headers={"X-Forwarded-For": client, **headers})


def delete(hub: HubProcess, registration_id: str, token: str, client: str) -> httpx.Response:
    return httpx.delete(
        f"{hub.url}/public/registrations/{registration_id}",
        params={"token": token},
        headers={"X-Forwarded-For": client},
    )


def fetch(hub: HubProcess, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{hub.url}{path}", params=params or None)


def submit(browser: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    return browser.post(path, data=data)


def count(hub: HubProcess, token: str, geometry: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{hub.url}/api/registrations/count",
        json={"geometry": geometry},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def messages(seed: Seeder, registration_id: str) -> list[OutboxMessage]:
    async with seed.hub.db.read() as session:
        return list(
            await session.scalars(
                select(OutboxMessage).where(col(OutboxMessage.registration_id) == registration_id)
            )
        )


async def stored(seed: Seeder, registration_id: str) -> tuple[Registration | None, int]:
    async with seed.hub.db.read() as session:
        row = await session.get(Registration, registration_id)
        places = await session.scalar(
            select(func.count())
            .select_from(RegistrationPlace)
            .where(col(RegistrationPlace.registration_id) == registration_id)
        )
    return row, int(places or 0)


async def registrations_in_all(seed: Seeder) -> int:
    async with seed.hub.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Registration)) or 0)


def code_of(message: OutboxMessage) -> str:
    found = re.search(r"\b(\d(?: ?\d){5})\b", message.text)
    assert found, message.text
    return found.group(1).replace(" ", "")


def link_of(message: OutboxMessage) -> tuple[str, str]:
    """(path, token) of the message's unsubscribe link."""
    found = re.search(r"https?://\S+/unsubscribe\?\S+", message.text)
    assert found, message.text
    parts = urlsplit(found.group(0))
    return parts.path, parse_qs(parts.query)["token"][0]


async def test_register_confirm_count_unsubscribe(
    hub_server: HubProcess, seed: Seeder, token: str, client: str
) -> None:
    area = square(5.0, 45.0)
    sms = number()
    body = registration(
        45.05,
        5.05,
        sms=sms,
        email="person@example.be",
        places=[
            {"label": "home", "lat": 45.05, "lon": 5.05},
            {"label": "work", "lat": 45.06, "lon": 5.06},
        ],
    )
    answer = post(hub_server, "/public/registrations", body, client)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created == {"id": created["id"], "confirmed": False, "channel": "sms"}
    registration_id = created["id"]

    # the code is queued on the first channel (sms) in the person's language, with the link
    [message] = await messages(seed, registration_id)
    assert (message.channel, message.address, message.language) == ("sms", sms, "fr")
    assert (message.purpose, message.state, message.attempts) == ("confirmation", "queued", 0)
    assert message.subject is None and message.alert_id is None
    assert "code de confirmation" in message.text
    code = code_of(message)
    path, unsubscribe_token = link_of(message)
    assert path == f"/public/registrations/{registration_id}/unsubscribe"
    assert message.text.startswith("BE-Alert")
    row, places = await stored(seed, registration_id)
    assert row is not None and places == 2
    assert not row.confirmed and not row.test_audience and row.external_id is None
    assert row.confirmation_hash is not None and code not in row.confirmation_hash

    # unconfirmed: not counted
    assert count(hub_server, token, area)["registrations"] == 0
    wrong = "000000" if code != "000000" else "111111"
    refused = post(
        hub_server, f"/public/registrations/{registration_id}/confirm", {"code": wrong}, client
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid"
    assert "4 tries left" in refused.json()["error"]["message"]
    row, _ = await stored(seed, registration_id)
    assert row is not None and row.confirmation_failures == 1 and not row.confirmed

    confirmed = post(
        hub_server, f"/public/registrations/{registration_id}/confirm", {"code": code}, client
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"id": registration_id, "confirmed": True}
    again = post(
        hub_server, f"/public/registrations/{registration_id}/confirm", {"code": code}, client
    )
    assert again.status_code == 200  # a double submit
    async with seed.hub.db.read() as session:
        flags = list(
            await session.scalars(
                select(col(RegistrationPlace.confirmed)).where(
                    col(RegistrationPlace.registration_id) == registration_id
                )
            )
        )
        place = await session.scalar(
            select(RegistrationPlace).where(
                col(RegistrationPlace.registration_id) == registration_id
            )
        )
    assert flags == [True, True]
    async with seed.hub.db.read() as session:
        keys = set(
            await session.scalars(
                select(col(RegistrationPlace.shared_key)).where(
                    col(RegistrationPlace.registration_id) == registration_id
                )
            )
        )
    assert len(keys) == 1 and None not in keys  # two places: counted once by their key
    assert place is not None and (place.language, place.channels, place.test_audience) == (
        "fr",
        1 | 4,
        False,
    )
    assert count(hub_server, token, area) == {
        "registrations": 1,
        "by_channel": {"sms": 1, "voice": 0, "email": 1},
        "by_language": {"fr": 1, "nl": 0, "de": 0, "en": 0},
    }

    # the link's page: a GET shows a button and deletes nothing (link scanners fetch it)
    page = fetch(hub_server, path, token=unsubscribe_token, lang="nl")
    assert page.status_code == 200
    assert shown("unsubscribe_button", "nl") in page.text
    assert (await stored(seed, registration_id))[0] is not None

    # a wrong token is refused, as an unknown id is
    bad = delete(hub_server, registration_id, unsubscribe_token[:-2] + "xx", client)
    assert bad.status_code == 404 and bad.json()["error"]["code"] == "not_found"
    unknown = delete(hub_server, uuid.uuid4().hex, unsubscribe_token, client)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert (await stored(seed, registration_id))[0] is not None

    removed = delete(hub_server, registration_id, unsubscribe_token, client)
    assert removed.status_code == 200, removed.text
    assert await stored(seed, registration_id) == (None, 0)
    assert await messages(seed, registration_id) == []
    assert count(hub_server, token, area)["registrations"] == 0
    assert delete(hub_server, registration_id, unsubscribe_token, client).status_code == 404

    # the log names the registration, never its number, address, code or token
    log = hub_server.log_path.read_text()
    assert f"self-registration {registration_id} created" in log
    assert f"****{sms[-3:]}" in log
    for secret in (sms, "person@example.be", code, unsubscribe_token):
        assert secret not in log


@pytest.mark.parametrize(
    ("language", "fields", "channel", "words"),
    [
        ("nl", {"voice": "+3225550123", "email": "v@example.be"}, "voice", "bevestigingscode"),
        ("de", {"email": "e@example.be"}, "email", "Bestätigungscode"),
        ("en", {"sms": "+32470000001", "voice": "+3225550123"}, "sms", "confirmation code"),
    ],
)
async def test_the_code_goes_to_the_first_channel_in_the_persons_language(
    hub_server: HubProcess,
    seed: Seeder,
    client: str,
    language: str,
    fields: dict[str, str],
    channel: str,
    words: str,
) -> None:
    if "sms" in fields:
        fields = {**fields, "sms": number()}
    answer = post(
        hub_server,
        "/public/registrations",
        registration(45.5, 5.5, language=language, **fields),
        client,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["channel"] == channel
    [message] = await messages(seed, answer.json()["id"])
    assert (message.channel, message.language) == (channel, language)
    assert message.address == fields[channel]
    assert words in message.text
    assert (message.subject is not None) == (channel == "email")
    if channel == "voice":  # read out digit by digit
        assert re.search(r"\d \d \d \d \d \d", message.text)
    link_of(message)


async def test_five_wrong_codes_and_an_expired_code_need_a_new_registration(
    hub_server: HubProcess, seed: Seeder, client: str
) -> None:
    answer = post(
        hub_server, "/public/registrations", registration(45.6, 5.6, sms=number()), client
    )
    registration_id = answer.json()["id"]
    code = code_of((await messages(seed, registration_id))[0])
    wrong = "000000" if code != "000000" else "111111"
    path = f"/public/registrations/{registration_id}/confirm"
    for left in (4, 3, 2, 1):
        refused = post(hub_server, path, {"code": wrong}, client)
        assert f"{left} tries left" in refused.json()["error"]["message"]
    last = post(hub_server, path, {"code": wrong}, client)
    assert last.status_code == 400 and "register again" in last.json()["error"]["message"]
    assert await stored(seed, registration_id) == (None, 0)  # erased, with its message
    assert await messages(seed, registration_id) == []
    gone = post(hub_server, path, {"code": code}, client)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"

    answer = post(
        hub_server, "/public/registrations", registration(45.6, 5.6, sms=number()), client
    )
    registration_id = answer.json()["id"]
    code = code_of((await messages(seed, registration_id))[0])
    async with seed.hub.db.write() as session:
        await session.execute(
            update(Registration)
            .where(col(Registration.id) == registration_id)
            .values(confirmation_expires_at=utcnow() - timedelta(seconds=1))
        )
    late = post(
        hub_server, f"/public/registrations/{registration_id}/confirm", {"code": code}, client
    )
    assert late.status_code == 400 and "expired" in late.json()["error"]["message"]
    row, _ = await stored(seed, registration_id)
    assert row is not None and not row.confirmed


def places(n: int) -> list[dict[str, Any]]:
    return [{"label": f"p{i}", "lat": 45.7, "lon": 5.7 + i / 100} for i in range(n)]


BAD: dict[str, tuple[dict[str, Any], str]] = {
    "six places": ({"sms": "+32470000002", "places": places(6)}, "invalid"),
    "no place": ({"sms": "+32470000002", "places": []}, "invalid"),
    "unknown language": ({"sms": "+32470000002", "language": "es"}, "invalid"),
    "not E.164": ({"sms": "0470123456"}, "invalid"),
    "not a number": ({"voice": "+3200"}, "invalid"),
    "no channel": ({}, "invalid"),
    "bad e-mail": ({"email": "nobody"}, "invalid"),
    "test audience": ({"sms": "+32470000002", "test_audience": True}, "invalid"),
    "confirmed": ({"sms": "+32470000002", "confirmed": True}, "invalid"),
    "latitude": (
        {"sms": "+32470000002", "places": [{"label": "x", "lat": 91, "lon": 5}]},
        "invalid",
    ),
    "text latitude": (
        {"sms": "+32470000002", "places": [{"label": "x", "lat": "50", "lon": 5}]},
        "invalid",
    ),
    "long label": (
        {"sms": "+32470000002", "places": [{"label": "x" * 201, "lat": 45.7, "lon": 5.7}]},
        "too_large",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_input_is_refused_and_writes_nothing(
    hub_server: HubProcess, seed: Seeder, client: str, case: str
) -> None:
    fields, code = BAD[case]
    before = await registrations_in_all(seed)
    answer = post(hub_server, "/public/registrations", registration(45.7, 5.7, **fields), client)
    assert answer.status_code == (413 if code == "too_large" else 400), answer.text
    assert answer.json()["error"]["code"] == code
    assert await registrations_in_all(seed) == before


def test_bodies_that_are_no_registration(hub_server: HubProcess, client: str) -> None:
    url = f"{hub_server.url}/public/registrations"
    headers = {"X-Forwarded-For": client, "Content-Type": "application/json"}
    for body, code in ((b"{", "invalid"), (b"[]", "invalid"), (b" " * 1_100_000, "too_large")):
        answer = httpx.post(url, content=body, headers=headers)
        assert answer.json()["error"]["code"] == code
    confirm = post(
        hub_server, f"/public/registrations/{uuid.uuid4().hex}/confirm", {"code": "123456"}, client
    )
    assert confirm.status_code == 404 and confirm.json()["error"]["code"] == "not_found"
    assert (
        post(hub_server, f"/public/registrations/{uuid.uuid4().hex}/confirm", {}, client).json()[
            "error"
        ]["code"]
        == "invalid"
    )
    assert httpx.get(url).status_code == 405


def test_a_foreign_origin_may_not_register(hub_server: HubProcess, client: str) -> None:
    body = registration(45.8, 5.8, sms=number())
    foreign = post(hub_server, "/public/registrations", body, client, Origin="https://evil.example")
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "forbidden"
    own = post(hub_server, "/public/registrations", body, client, Origin=hub_server.url)
    assert own.status_code == 201


async def test_a_client_address_is_limited_over_its_burst(
    hub_server: HubProcess, seed: Seeder, client: str
) -> None:
    """Every public write costs the address one (a wrong token too); past the burst, 429."""
    for _ in range(WRITES_BURST):
        assert delete(hub_server, uuid.uuid4().hex, "x", client).status_code == 404
    refused = delete(hub_server, uuid.uuid4().hex, "x", client)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    before = await registrations_in_all(seed)
    body = registration(45.9, 5.9, sms=number())
    assert post(hub_server, "/public/registrations", body, client).status_code == 429
    assert await registrations_in_all(seed) == before
    other = post(hub_server, "/public/registrations", body, client.rsplit(".", 1)[0] + ".254")
    assert other.status_code == 201  # another address is not slowed


async def test_a_number_gets_a_few_codes_an_hour_whoever_asks(
    hub_server: HubProcess, seed: Seeder
) -> None:
    sms = number()
    addresses = [f"192.0.2.{i}" for i in range(1, CODES_PER_CONTACT + 2)]
    for address in addresses[:CODES_PER_CONTACT]:
        answer = post(
            hub_server, "/public/registrations", registration(46.0, 6.0, sms=sms), address
        )
        assert answer.status_code == 201  # registering twice looks like registering once
    before = await registrations_in_all(seed)
    flood = post(
        hub_server, "/public/registrations", registration(46.0, 6.0, sms=sms), addresses[-1]
    )
    assert flood.status_code == 429 and flood.json()["error"]["code"] == "rate_limited"
    assert await registrations_in_all(seed) == before
    # the limit is the first channel's, the one a code goes to: the same number as voice
    # behind a new sms is fine, and so is another number from the same address
    other = post(
        hub_server,
        "/public/registrations",
        registration(46.0, 6.0, sms=number(), voice=sms),
        addresses[-1],
    )
    assert other.status_code == 201


async def test_unconfirmed_registrations_are_purged_after_a_day(
    hub_server: HubProcess, seed: Seeder, client: str, database_url: str, tmp_path: Path
) -> None:
    old = post(hub_server, "/public/registrations", registration(46.1, 6.1, sms=number()), client)
    fresh = post(hub_server, "/public/registrations", registration(46.1, 6.1, sms=number()), client)
    kept = post(hub_server, "/public/registrations", registration(46.1, 6.1, sms=number()), client)
    kept_id = kept.json()["id"]
    code = code_of((await messages(seed, kept_id))[0])
    assert (
        post(
            hub_server, f"/public/registrations/{kept_id}/confirm", {"code": code}, client
        ).status_code
        == 200
    )
    async with seed.hub.db.write() as session:
        await session.execute(
            update(Registration)
            .where(col(Registration.id).in_([old.json()["id"], kept_id]))
            .values(created_at=utcnow() - timedelta(hours=25))
        )
    # past a day an unconfirmed one is gone already for its code, before any purge
    old_code = code_of((await messages(seed, old.json()["id"]))[0])
    stale = post(
        hub_server, f"/public/registrations/{old.json()['id']}/confirm", {"code": old_code}, client
    )
    assert stale.status_code == 404
    result = crisishub(database_url, "registrations", "purge-unconfirmed", cwd=tmp_path)
    assert int(last_line(result)) >= 1
    assert await stored(seed, old.json()["id"]) == (None, 0)
    assert await messages(seed, old.json()["id"]) == []
    assert (await stored(seed, fresh.json()["id"]))[0] is not None
    assert (await stored(seed, kept_id))[0] is not None  # confirmed: kept


# pages --------------------------------------------------------------------------------------


def shown(key: str, lang: str) -> str:
    """A text of the pages as the HTML carries it (escaped)."""
    return str(escape(TEXT[key][lang]))


def test_every_text_is_in_four_languages() -> None:
    for key, by_lang in TEXT.items():
        assert sorted(by_lang) == sorted(PUBLIC_LANGS), key
        assert all(text.strip() for text in by_lang.values()), key


@pytest.mark.parametrize("lang", PUBLIC_LANGS)
def test_the_pages_render_in_each_language(hub_server: HubProcess, lang: str) -> None:
    for path in (
        "/register",
        f"/register/{uuid.uuid4().hex}/confirm?channel=sms",
        "/register/done",
        f"/public/registrations/{uuid.uuid4().hex}/unsubscribe?token=x",
    ):
        sep = "&" if "?" in path else "?"
        page = httpx.get(f"{hub_server.url}{path}{sep}lang={lang}")
        assert page.status_code == 200, (path, page.text[:300])
        assert f'<html lang="{lang}">' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        assert "<script>" not in page.text  # the CSP allows no inline script
        for code in PUBLIC_LANGS:  # the switcher
            assert f'hreflang="{code}"' in page.text
    form = httpx.get(f"{hub_server.url}/register?lang={lang}").text
    assert shown("title", lang) in form and shown("submit", lang) in form
    assert 'src="/static/dist/register.js"' in form
    # Accept-Language when no ?lang=
    chosen = httpx.get(
        f"{hub_server.url}/register", headers={"Accept-Language": f"{lang}-BE,en;q=0.5"}
    )
    assert f'<html lang="{lang}">' in chosen.text


def test_the_form_works_without_scripts(hub_server: HubProcess, client: str) -> None:
    """The whole path by form posts, in German, as a browser without JavaScript goes."""
    headers = {"X-Forwarded-For": client, "Origin": hub_server.url}
    with httpx.Client(base_url=hub_server.url, headers=headers) as browser:
        form = {
            "language": "de",
            "sms": "",
            "voice": "",
            "email": "",
            "place-0-label": "Zuhause",
            "place-0-lat": "50,6",
            "place-0-lon": "6,0",
        }
        empty = browser.post("/register?lang=de", data=form)
        assert empty.status_code == 400
        assert shown("err_channel", "de") in empty.text
        assert 'value="Zuhause"' in empty.text  # what was typed is kept
        form["email"] = f"web-{uuid.uuid4().hex[:6]}@example.be"
        sent = browser.post("/register?lang=de", data=form)
        assert sent.status_code == 303, sent.text
        target = sent.headers["location"]
        assert target.startswith("/register/") and "channel=email" in target
        page = browser.get(target)
        assert shown("confirm_email", "de") in page.text
        wrong = browser.post(target.split("&")[0], data={"code": "abc"})
        assert wrong.status_code == 400 and shown("err_wrong_code", "de") in wrong.text
        foreign = browser.post(
            "/register?lang=de", data=form, headers={"Origin": "https://evil.example"}
        )
        assert foreign.status_code == 403 and shown("err_forbidden", "de") in foreign.text


async def test_confirm_and_unsubscribe_by_form(
    hub_server: HubProcess, seed: Seeder, client: str
) -> None:
    headers = {"X-Forwarded-For": client, "Origin": hub_server.url}
    with httpx.Client(base_url=hub_server.url, headers=headers) as browser:
        form = {"language": "nl", "sms": number(), "place-2-label": "werk"}
        form |= {"place-2-lat": "51.2", "place-2-lon": "4.4"}
        sent = submit(browser, "/register?lang=nl", form)
        assert sent.status_code == 303, sent.text
        registration_id = sent.headers["location"].split("/")[2]
        [message] = await messages(seed, registration_id)
        done = submit(
            browser, f"/register/{registration_id}/confirm?lang=nl", {"code": code_of(message)}
        )
        assert done.status_code == 303 and done.headers["location"] == "/register/done?lang=nl"
        assert shown("done", "nl") in fetch(hub_server, done.headers["location"]).text
        path, token = link_of(message)
        bad = submit(browser, f"{path}?lang=nl", {"token": "nope"})
        assert bad.status_code == 404 and shown("err_not_found", "nl") in bad.text
        gone = submit(browser, f"{path}?lang=nl", {"token": token})
        assert gone.status_code == 200 and shown("unsubscribed", "nl") in gone.text
    assert await stored(seed, registration_id) == (None, 0)


@pytest.fixture
def chromium() -> str:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: scripts/setup --test"
    assert (Path(web.pages.DIST) / "register.js").is_file(), "build the front end first"
    return CHROMIUM


async def test_a_place_is_picked_on_the_map_in_a_real_browser(
    hub_server: HubProcess, chromium: str
) -> None:
    """Debian's chromium: the map appears over the offline base layer, a click fills the first
    place's latitude and longitude, the form goes through, and the CSP blocks nothing."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(extra_http_headers={"X-Forwarded-For": "198.51.100.7"})
            await page.add_init_script(WATCH_CSP)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{hub_server.url}/register?lang=de")
            area = page.locator("#place-map")
            await expect(area).to_be_visible()
            await expect(
                page.locator("#place-map path.leaflet-interactive, #place-map path")
            ).not_to_have_count(0)
            await area.click(position={"x": 200, "y": 150})
            lat = page.locator('input[name="place-0-lat"]')
            await expect(lat).not_to_have_value("")
            assert -90 <= float(await lat.input_value()) <= 90
            assert await page.locator('input[name="place-0-label"]').input_value() == "Zuhause"
            await expect(page.locator("#place-map .leaflet-tooltip")).to_have_count(1)
            await page.fill("#email", f"map-{uuid.uuid4().hex[:6]}@example.be")
            await page.click("#register-form button[type=submit]")
            await expect(page).to_have_url(re.compile(r"/register/[0-9a-f]{32}/confirm"))
            await expect(page.locator("body")).to_contain_text(TEXT["confirm_email"]["de"])
            assert await page.evaluate("window.__csp") == []
            assert errors == []
        finally:
            await browser.close()


async def test_an_imported_registration_unsubscribes_by_the_same_link(
    hub_server: HubProcess, seed: Seeder, client: str, database_url: str, tmp_path: Path
) -> None:
    """The token is derived from the id, so an alert's message to an imported registration
    carries a link as good as a confirmation's; nothing about the token is stored."""
    external = f"imp-{uuid.uuid4().hex[:6]}"
    path = tmp_path / "people.csv"
    path.write_text(
        "external_id,language,sms,voice,email,label,lat,lon\n"
        f"{external},nl,{number()},,,thuis,46.2,6.2\n",
        encoding="utf-8",
    )
    last_line(crisishub(database_url, "registrations", "import", str(path), cwd=tmp_path))
    async with seed.hub.db.read() as session:
        registration_id = await session.scalar(
            select(col(Registration.id)).where(col(Registration.external_id) == external)
        )
    assert registration_id is not None
    token = unsubscribe_token(hub_server.env["SECRET_KEY"], registration_id)
    assert len(token) == 43
    # an imported registration has no code to confirm
    confirm = post(
        hub_server, f"/public/registrations/{registration_id}/confirm", {"code": "123456"}, client
    )
    assert confirm.status_code == 404
    assert delete(hub_server, registration_id, token, client).status_code == 200
    assert await stored(seed, registration_id) == (None, 0)
