"""The registrations CSV's parsing and validation (hub/alerts/registrations.py), no database."""

from __future__ import annotations

import io

import pytest

from hub.alerts.registrations import RefusedFile, coordinate, email, parse, phone

HEADER = "external_id,language,sms,voice,email,label,lat,lon\n"


def parsed(text: str) -> dict[str, object]:
    return dict(parse(io.StringIO(text, newline="")))


def refusal(text: str) -> str:
    with pytest.raises(RefusedFile) as error:
        parse(io.StringIO(text, newline=""))
    return str(error.value)


def test_rows_of_one_external_id_are_one_registration_adjacent_or_not() -> None:
    result = parse(
        io.StringIO(
            HEADER + "a,fr,+32470123456,,,home,50.8,4.3\n"
            "b,NL,,+3225551234,b@example.be,home,51,4\n"
            '"a",fr,+32470123456,,,"work, floor 2",50.9,4.4\n',
            newline="",
        )
    )
    assert list(result) == ["a", "b"]
    assert result["a"].places == [("home", 50.8, 4.3), ("work, floor 2", 50.9, 4.4)]
    assert result["b"].language == "nl" and result["b"].email == "b@example.be"
    assert result["a"].test_audience is False


def test_columns_may_come_in_any_order_with_test_audience() -> None:
    text = "lat,lon,label,email,voice,sms,language,external_id,test_audience\n"
    text += "50,4,home,,,+32470123456,de,x,true\n"
    assert parse(io.StringIO(text, newline=""))["x"].test_audience is True


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a,es,+32470123456,,,home,50,4", "line 2: language must be one of"),
        ("a,fr,+32 470 12 34 56,,,home,50,4", "line 2: sms must be an E.164"),
        ("a,fr,,+999123,,home,50,4", "line 2: voice '+999123' is not"),
        ("a,fr,,,not-an-address,home,50,4", "line 2: email"),
        ("a,fr,,,,home,50,4", "line 2: a registration needs at least one of"),
        ("a,fr,+32470123456,,,home,-90.5,4", "line 2: lat '-90.5' is outside"),
        ("a,fr,+32470123456,,,home,50,inf", "line 2: lon 'inf' is outside"),
        ("a,fr,+32470123456,,,home,50,east", "line 2: lon must be a number"),
        ("a,fr,+32470123456,,,,50,4", "line 2: label must be"),
        (",fr,+32470123456,,,home,50,4", "line 2: external_id is empty"),
        ("a,fr,+32470123456,,,home,50", "line 2: 7 fields where the header has 8"),
    ],
)
def test_a_bad_row_is_named_by_its_line(row: str, message: str) -> None:
    assert refusal(HEADER + row + "\n").startswith(message)


def test_the_line_number_counts_quoted_newlines_and_blank_lines() -> None:
    text = HEADER + 'a,fr,+32470123456,,,"two\nlines",50,4\n\nb,xx,,,b@example.be,home,50,4\n'
    assert refusal(text).startswith("line 5: language")


def test_six_places_long_lines_and_disagreeing_rows_are_refused() -> None:
    six = "".join(f"a,fr,+32470123456,,,p{i},50,4\n" for i in range(6))
    assert refusal(HEADER + six) == "line 7: external_id 'a' has more than 5 places"
    long = HEADER + "a,fr,+32470123456,,," + "x" * 70_000 + ",50,4\n"
    assert refusal(long) == "line 2: longer than 64 KiB"
    clash = HEADER + "a,fr,+32470123456,,,home,50,4\na,nl,+32470123456,,,work,50,4\n"
    assert refusal(clash) == "line 3: external_id 'a' has other contact fields on line 2"


def test_the_header_is_checked() -> None:
    assert refusal("") == "line 1: the file is empty (a header is needed)"
    assert refusal("external_id,language\n").startswith("line 1: the header lacks sms")
    assert refusal(HEADER.strip() + ",colour\n").startswith("line 1: unknown or repeated")


def test_field_validators() -> None:
    assert phone("+32470123456", "sms") == "+32470123456"
    assert phone("", "sms") is None
    with pytest.raises(ValueError):
        phone("+324701234567890123", "sms")
    assert email("a.b@example.be") == "a.b@example.be"
    with pytest.raises(ValueError):
        email("a@b")
    assert coordinate("-180", "lon", 180) == -180.0
    with pytest.raises(ValueError):
        coordinate("NaN", "lat", 90)
    assert parsed(HEADER) == {}
