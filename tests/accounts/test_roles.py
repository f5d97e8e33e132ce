import pytest
from django.contrib.auth.models import Group

from accounts import roles

pytestmark = pytest.mark.django_db


def test_data_migration_creates_the_three_roles_with_their_permissions():
    perms = {
        g.name: sorted(p.codename for p in g.permissions.all())
        for g in Group.objects.prefetch_related("permissions")
    }
    assert perms == {
        "Comms officer": ["work_queue"],
        "Duty manager": ["handle_escalations", "manage_rota", "view_audit", "work_queue"],
        "Policy admin": ["manage_policy", "manage_rota", "view_audit"],
    }


def test_role_permissions_match_the_live_role_table():
    # The migration keeps a frozen copy; the live table must not drift from it.
    for role, codenames in roles.ROLE_PERMISSIONS.items():
        assert sorted(Group.objects.get(name=role).permissions.values_list("codename", flat=True)) == sorted(codenames)


def test_officer_can_work_queue_but_not_policy(officer):
    assert officer.has_perm(roles.WORK_QUEUE)
    assert not officer.has_perm(roles.MANAGE_POLICY)
    assert not officer.has_perm(roles.HANDLE_ESCALATIONS)


def test_outsider_has_no_permissions(outsider):
    assert not any(outsider.has_perm(p) for p in (roles.WORK_QUEUE, roles.MANAGE_POLICY, roles.HANDLE_ESCALATIONS))
