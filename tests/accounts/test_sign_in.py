import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_sign_in_page_is_public(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_sign_in_with_password_lands_officer_on_queue(client, officer):
    response = client.post(
        reverse("accounts:login"), {"username": officer.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home"))["Location"] == reverse("moderation:queue")


def test_wrong_password_is_refused_and_locks_out_after_the_limit(client, officer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("accounts:login"), {"username": officer.username, "password": "wrong"})
    assert response.status_code in (200, 429)
    # Locked: even the right password is refused now.
    response = client.post(
        reverse("accounts:login"), {"username": officer.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_sign_out_requires_post_and_ends_the_session(client_for, officer):
    client = client_for(officer)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_home_sends_each_role_to_its_screen(client_for, officer, duty_manager, policy_admin, outsider):
    assert client_for(officer).get(reverse("home"))["Location"] == reverse("moderation:queue")
    assert client_for(duty_manager).get(reverse("home"))["Location"] == reverse("moderation:queue")
    assert client_for(policy_admin).get(reverse("home"))["Location"] == reverse("policy:versions")
    assert client_for(outsider).get(reverse("home")).status_code == 403
