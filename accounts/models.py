from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from accounts import roles


class User(AbstractUser):
    """Custom from the first migration, so fields can be added later without pain."""

    class Meta:
        permissions = sorted(roles.PERMISSIONS.items())

    @property
    def label(self) -> str:
        return self.get_full_name() or self.username


class OnCallShift(models.Model):
    """Who is duty communications manager when, with a backup paged if they do not answer."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="shifts")
    backup = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="backup_shifts", null=True, blank=True
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"),
            models.CheckConstraint(
                condition=Q(backup__isnull=True) | ~Q(backup=models.F("user")),
                name="shift_backup_is_someone_else",
            ),
        ]
        indexes = [
            # "Who is on call at time T": WHERE starts_at <= T AND ends_at > T.
            models.Index(fields=["starts_at", "ends_at"], name="shift_window_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"
