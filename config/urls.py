from django.urls import include, path

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include("accounts.urls")),
    path("policy/", include("policy.urls")),
    path("", include("moderation.urls")),
]
