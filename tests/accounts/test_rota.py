"""The on-call rota: who is duty manager when, with a backup; edited with manage_rota."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from accounts.models import OnCallShift
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
LONDON = ZoneInfo("Europe/London")


def _form(user, backup=None, start="2026-12-24T17:00", end="2026-12-29T09:00"):
    data = {"user": user.pk, "starts_at": start, "ends_at": end}
    if backup:
        data["backup"] = backup.pk
    return data


@pytest.fixture
def second_dm(duty_manager):
    other = UserFactory(username="second.dm")
    other.groups.set(duty_manager.groups.all())
    return other


def test_rota_page_full_and_partial(client_for, policy_admin):
    c = client_for(policy_admin)
    body = c.get(reverse("accounts:rota")).content.decode()
    assert "<html" in body and 'id="rota-body"' in body
    partial = c.get(reverse("accounts:rota"), **HX).content.decode()
    assert "<html" not in partial and partial.lstrip().startswith('<div id="rota-body"')


def test_add_a_shift_in_local_time(client_for, policy_admin, duty_manager, second_dm):
    response = client_for(policy_admin).post(reverse("accounts:shift_add"), _form(duty_manager, second_dm), **HX)
    assert response.status_code == 200
    shift = OnCallShift.objects.get()
    assert (shift.user, shift.backup, shift.created_by) == (duty_manager, second_dm, policy_admin)
    assert shift.starts_at == dt.datetime(2026, 12, 24, 17, 0, tzinfo=LONDON)
    assert AuditEvent.objects.get(verb="rota.shift_added").actor == policy_admin
    assert "rota-changed" in response["HX-Trigger"]


def test_add_without_htmx_redirects(client_for, policy_admin, duty_manager):
    response = client_for(policy_admin).post(reverse("accounts:shift_add"), _form(duty_manager))
    assert (response.status_code, response["Location"]) == (302, reverse("accounts:rota"))


@pytest.mark.parametrize("case,change,error", [
    ("backup is the same person", {"backup": "same"}, "The backup must be someone else."),
    ("ends before it starts", {"end": "2026-12-24T16:00"}, "A shift must end after it starts."),
])
def test_invalid_shifts_are_refused(client_for, policy_admin, duty_manager, case, change, error):
    data = _form(duty_manager, duty_manager if change.get("backup") else None, end=change.get("end", "2026-12-29T09:00"))
    response = client_for(policy_admin).post(reverse("accounts:shift_add"), data, **HX)
    assert response.status_code == 200 and error in response.content.decode()
    assert OnCallShift.objects.count() == 0


def test_overlapping_shifts_are_refused(client_for, policy_admin, duty_manager, second_dm):
    c = client_for(policy_admin)
    c.post(reverse("accounts:shift_add"), _form(duty_manager), **HX)
    response = c.post(reverse("accounts:shift_add"), _form(second_dm, start="2026-12-28T17:00", end="2026-12-30T09:00"), **HX)
    assert "Overlaps Test" in response.content.decode()
    assert OnCallShift.objects.count() == 1


def test_only_duty_managers_can_be_put_on_the_rota(client_for, policy_admin, officer):
    response = client_for(policy_admin).post(reverse("accounts:shift_add"), _form(officer), **HX)
    assert "Select a valid choice" in response.content.decode()
    assert OnCallShift.objects.count() == 0


def test_edit_and_delete(client_for, policy_admin, duty_manager, second_dm):
    c = client_for(policy_admin)
    c.post(reverse("accounts:shift_add"), _form(duty_manager), **HX)
    shift = OnCallShift.objects.get()
    page = c.get(reverse("accounts:shift_edit", args=[shift.pk]))
    assert page.status_code == 200 and 'id="shift-form"' in page.content.decode()
    partial = c.get(reverse("accounts:shift_edit", args=[shift.pk]), **HX).content.decode()
    assert "<html" not in partial and partial.lstrip().startswith('<form id="shift-form"')
    response = c.post(reverse("accounts:shift_edit", args=[shift.pk]), _form(second_dm, duty_manager))
    assert response.status_code == 302
    shift.refresh_from_db()
    assert (shift.user, shift.backup) == (second_dm, duty_manager)
    response = c.post(reverse("accounts:shift_delete", args=[shift.pk]), **HX)
    assert response.status_code == 200 and OnCallShift.objects.count() == 0
    assert [e.verb for e in AuditEvent.objects.order_by("at", "id")] == ["rota.shift_added", "rota.shift_changed", "rota.shift_removed"]


def test_rota_access(client, client_for, officer, policy_admin, duty_manager):
    shift = OnCallShift.objects.create(user=duty_manager, starts_at=dt.datetime(2026, 1, 1, tzinfo=LONDON),
                                       ends_at=dt.datetime(2026, 1, 2, tzinfo=LONDON))
    assert client_for(officer).get(reverse("accounts:rota")).status_code == 403
    assert client_for(officer).post(reverse("accounts:shift_delete", args=[shift.pk])).status_code == 403
    c = client_for(policy_admin)
    assert c.get(reverse("accounts:shift_edit", args=[999999])).status_code == 404
    assert c.post(reverse("accounts:shift_delete", args=[999999])).status_code == 404
    assert c.get(reverse("accounts:shift_delete", args=[shift.pk])).status_code == 405
    assert c.post(reverse("accounts:rota")).status_code == 405
    assert c.get(reverse("accounts:shift_add")).status_code == 405
    assert OnCallShift.objects.count() == 1
