from django.contrib.auth import views as auth_views
from django.urls import path

from recognizer import views

urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_page, name="help"),
    # Accounts: Django's own views; only the ones the site offers (no password reset: there is no e-mail).
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # Pictures in, answers out.
    path("upload/", views.upload, name="upload"),
    path("draw/", views.draw, name="draw"),
    path("predictions/", views.history, name="history"),
    path("predictions/delete/", views.predictions_bulk_delete, name="predictions_bulk_delete"),
    path("predictions/sent/", views.predictions_sent, name="predictions_sent"),
    path("predictions/<int:pk>/", views.prediction_detail, name="prediction_detail"),
    path("predictions/<int:pk>/status.json", views.prediction_status_json, name="prediction_status"),
    path("predictions/<int:pk>/picture/<str:kind>/", views.prediction_picture, name="prediction_picture"),
    path("predictions/<int:pk>/feedback/", views.prediction_feedback, name="prediction_feedback"),
    path("predictions/<int:pk>/correct/", views.prediction_correct_digit, name="prediction_correct_digit"),
    path("predictions/<int:pk>/no-digit/", views.prediction_no_digit, name="prediction_no_digit"),
    path("predictions/<int:pk>/delete/", views.prediction_delete, name="prediction_delete"),
]
