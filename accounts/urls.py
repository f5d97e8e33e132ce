from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    # The duty manager on-call rota (issue 5).
    path("rota/", views.rota, name="rota"),
    path("rota/add/", views.shift_add, name="shift_add"),
    path("rota/<int:pk>/", views.shift_edit, name="shift_edit"),
    path("rota/<int:pk>/delete/", views.shift_delete, name="shift_delete"),
]
