"""hub/access.py check_role: the role needed in an incident, and no writes once it is closed."""

from __future__ import annotations

import pytest

from hub.access import check_role
from hub.errors import HubError
from models import Role, Status

ORDER = [Role.VIEWER, Role.CONTRIBUTOR, Role.MANAGER]


def forbidden(role_name: str | None, status: str, minimum: Role, *, write: bool = False) -> str:
    with pytest.raises(HubError) as raised:
        check_role(role_name, status, minimum, write=write)
    assert raised.value.code == "forbidden"
    assert raised.value.status == 403
    return raised.value.message


@pytest.mark.parametrize("role", ORDER)
@pytest.mark.parametrize("minimum", ORDER)
def test_a_role_passes_exactly_the_minimums_at_or_below_it(role: Role, minimum: Role) -> None:
    if ORDER.index(role) >= ORDER.index(minimum):
        granted = check_role(role.value, Status.OPEN.value, minimum)
        assert granted is role  # the Role itself, for callers that branch on it
    else:
        message = forbidden(role.value, Status.OPEN.value, minimum)
        assert message == f"this needs the {minimum.value} role in this incident"


@pytest.mark.parametrize("status", [Status.OPEN.value, Status.CLOSED.value])
def test_a_non_member_is_refused_whatever_the_incident(status: str) -> None:
    message = forbidden(None, status, Role.VIEWER)
    assert message == "you are not a member of this incident"


def test_a_closed_incident_can_be_read_but_not_written_even_by_its_managers() -> None:
    assert check_role("viewer", Status.CLOSED.value, Role.VIEWER) is Role.VIEWER
    assert check_role("manager", Status.CLOSED.value, Role.VIEWER) is Role.MANAGER
    assert forbidden("manager", Status.CLOSED.value, Role.MANAGER, write=True) == (
        "this incident is closed"
    )
    assert check_role("contributor", Status.OPEN.value, Role.CONTRIBUTOR, write=True) is (
        Role.CONTRIBUTOR
    )


def test_too_low_a_role_is_told_so_before_being_told_the_incident_is_closed() -> None:
    message = forbidden("viewer", Status.CLOSED.value, Role.CONTRIBUTOR, write=True)
    assert message == "this needs the contributor role in this incident"


def test_an_unknown_role_name_grants_nothing() -> None:
    """A role the code does not know (a newer schema, a hand-edited row) fails closed."""
    with pytest.raises(ValueError):
        check_role("owner", Status.OPEN.value, Role.VIEWER)
