"""Rule sets as versioned data.

A rule set version holds one JSON document (rules, term lists, staff names, link lists,
reply templates, category mapping, working hours; the schema is in policy/engine/schema.py).
Drafts are edited; publishing freezes a version for good. The engine compiles the published
document once per process and never touches the ORM while judging a comment.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class RuleSetVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    document = models.JSONField()
    notes = models.TextField(blank=True)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            # Exactly one version judges comments at any time: at most one published row.
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="published"), name="one_published_ruleset"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="ruleset_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.status})"
