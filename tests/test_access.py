"""Every page needs a signed-in user, and every view checks the role on the server.

New views are added to PAGES with the roles allowed; the parametrised tests then prove
anonymous -> sign-in redirect and wrong role -> 403 for each.
"""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ALL_ROLES = {"officer", "duty_manager", "policy_admin", "outsider"}
PAGES = {
    "moderation:queue": {"officer", "duty_manager"},
    "moderation:escalations": {"duty_manager"},
    "moderation:audit": {"duty_manager", "policy_admin"},
    "policy:versions": {"policy_admin"},
    "policy:try": {"policy_admin"},
    "moderation:rule_stats": {"policy_admin"},
    "accounts:rota": {"duty_manager", "policy_admin"},
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_anonymous_is_sent_to_sign_in(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize("name,role", [(n, r) for n in sorted(PAGES) for r in sorted(ALL_ROLES)])
def test_each_role_sees_only_what_it_may(request, client_for, name, role):
    user = request.getfixturevalue(role)
    response = client_for(user).get(reverse(name))
    assert response.status_code == (200 if role in PAGES[name] else 403)


@pytest.mark.parametrize("role,visible,hidden", [
    ("officer", ["Queue"], ["Escalations", "Policy", "Audit trail"]),
    ("duty_manager", ["Queue", "Escalations", "Audit trail"], ["Policy"]),
    ("policy_admin", ["Policy", "Audit trail"], ["Queue", "Escalations"]),
])
def test_navigation_shows_each_role_what_it_may_use(request, client_for, role, visible, hidden):
    user = request.getfixturevalue(role)
    page = client_for(user).get(reverse("home"), follow=True).content.decode()
    nav = page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    for label in visible:
        assert f">{label}</a>" in nav
    for label in hidden:
        assert f">{label}</a>" not in nav


@pytest.mark.parametrize("name", sorted(PAGES))
def test_pages_refuse_wrong_method(client_for, duty_manager, policy_admin, name):
    user = policy_admin if "policy_admin" in PAGES[name] else duty_manager
    assert client_for(user).post(reverse(name)).status_code == 405
