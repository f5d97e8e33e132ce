from django.urls import path

from moderation import views
from moderation.ingest import endpoints as webhooks

app_name = "moderation"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("escalations/", views.escalations, name="escalations"),
    path("audit/", views.audit, name="audit"),
    # The triage console (issue 5): pages keyed by comment id; mutations are POST.
    path("queue/bulk/", views.bulk, name="bulk"),
    path("comments/<int:pk>/", views.comment, name="comment"),
    path("comments/<int:pk>/decide/", views.decide, name="decide"),
    path("comments/<int:pk>/claim/", views.claim, name="claim"),
    path("comments/<int:pk>/release/", views.release, name="release"),
    path("comments/<int:pk>/undo/<int:decision_pk>/", views.undo, name="undo"),
    path("escalations/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    # Platform webhooks (issue 4): signed by the platform, not signed in; GET is the handshake.
    path("hooks/meta/", webhooks.meta, name="hooks-meta"),
    path("hooks/x/", webhooks.x, name="hooks-x"),
    # The policy admin's pages over stored comments, beside the policy pages they belong to.
    path("policy/rule-stats/", views.rule_stats, name="rule_stats"),
    path("policy/dry-runs/<int:pk>/", views.dryrun_detail, name="dryrun"),
    path("policy/v/<int:number>/dry-run/", views.dryrun_start, name="dryrun_start"),
]
