from django.urls import path

from moderation import views

app_name = "moderation"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("escalations/", views.escalations, name="escalations"),
    path("audit/", views.audit, name="audit"),
]
