"""The account page (e-mail, API token, download my data, delete my account) and password reset by e-mail.

Thin: the token, the download and the deletion are services; the reset is Django's own views.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recognizer import selectors, services
from recognizer.account_forms import AccountDeleteForm, AccountEmailForm


def _account_page(request, *, email_form: AccountEmailForm | None = None, status: int = 200):
    user = request.user
    context = {
        "email_form": email_form or AccountEmailForm(initial={"email": user.email}),
        "token": selectors.api_token_get(user=user),
        "prediction_count": selectors.account_prediction_count(user=user),
    }
    return render(request, "registration/account.html", context, status=status)


@login_required
@require_GET
def account(request):
    return _account_page(request)


@login_required
@require_POST
def account_email(request):
    form = AccountEmailForm(request.POST)
    if not form.is_valid():
        return _account_page(request, email_form=form, status=400)
    services.account_email_update(user=request.user, email=form.cleaned_data["email"])
    if form.cleaned_data["email"]:
        messages.success(request, gettext("Your e-mail address was saved."))
    else:
        messages.success(request, gettext("Your e-mail address was removed."))
    return redirect("account")


@login_required
@require_POST
def account_token(request):
    if request.POST.get("action") == "revoke":
        if services.api_tokens_revoke(user=request.user):
            messages.success(request, gettext("Your API token was revoked: it no longer works."))
    else:
        services.api_token_create(user=request.user)
        messages.success(request, gettext("Your new API token is below. Any token you had before no longer works."))
    return redirect("account")


@login_required
@require_GET
def account_export(request):
    user = request.user
    response = StreamingHttpResponse(services.account_export_chunks(user=user), content_type="application/zip")
    name = f"digitsite-{user.pk}-{timezone.now():%Y%m%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    form = AccountDeleteForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        services.account_delete(user=request.user)
        logout(request)
        messages.success(request, gettext("Your account and all its pictures were deleted."))
        return redirect("home")
    context = {"form": form, "prediction_count": selectors.account_prediction_count(user=request.user)}
    return render(request, "registration/account_delete.html", context, status=400 if form.errors else 200)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view; a person who proved by the mail that the account is theirs is no longer locked out.
    (Their API token goes with the old password: recognizer.signals.)"""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.login_lockout_clear(username=form.user.get_username())
        return response
