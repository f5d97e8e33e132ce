"""Rota input validation."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from accounts import roles
from accounts.models import OnCallShift, User


def duty_managers():
    """People who can take an escalation (the permission, not the group name)."""
    app, codename = roles.HANDLE_ESCALATIONS.split(".")
    perm = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app) | Q(
        user_permissions__codename=codename
    )
    return User.objects.filter(perm, is_active=True).distinct().order_by("first_name", "last_name", "username")


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ShiftForm(forms.ModelForm):
    class Meta:
        model = OnCallShift
        fields = ["user", "backup", "starts_at", "ends_at"]
        labels = {"user": "Duty manager", "backup": "Backup (paged if not acknowledged)"}
        widgets = {"starts_at": DateTimeLocal(), "ends_at": DateTimeLocal()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = duty_managers()
        self.fields["backup"].queryset = duty_managers()
        for name in ("starts_at", "ends_at"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]

    def clean(self):
        data = super().clean()
        user, backup = data.get("user"), data.get("backup")
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if user and backup and user == backup:
            self.add_error("backup", "The backup must be someone else.")
        if starts and ends:
            if ends <= starts:
                self.add_error("ends_at", "A shift must end after it starts.")
            else:
                # One duty manager at a time: the pager needs one answer to "who is on call".
                overlapping = OnCallShift.objects.filter(starts_at__lt=ends, ends_at__gt=starts)
                if self.instance.pk:
                    overlapping = overlapping.exclude(pk=self.instance.pk)
                clash = overlapping.select_related("user").first()
                if clash:
                    raise forms.ValidationError(
                        f"Overlaps {clash.user.label}'s shift {clash.starts_at:%d %b %H:%M}–{clash.ends_at:%d %b %H:%M}."
                    )
        return data
