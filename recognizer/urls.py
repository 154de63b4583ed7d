from django.contrib.auth import views as auth_views
from django.urls import path

from recognizer import views
from recognizer.account_forms import LoginForm, ResetRequestForm

urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_page, name="help"),
    # Accounts: Django's own views for logging in and passwords (a login form that knows about lockouts),
    # and the account page with its API token, download and deletion.
    path("accounts/", views.account, name="account"),
    path("accounts/email/", views.account_email, name="account_email"),
    path("accounts/token/", views.account_token, name="account_token"),
    path("accounts/download/", views.account_export, name="account_export"),
    path("accounts/delete/", views.account_delete, name="account_delete"),
    path("accounts/signup/", views.signup, name="signup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(form_class=ResetRequestForm),
        name="password_reset",
    ),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
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
