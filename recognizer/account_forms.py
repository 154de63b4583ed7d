"""Forms of accounts: sign up, log in (the site's and the admin's), the account page's e-mail and deletion."""

from __future__ import annotations

import math

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UserCreationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from recognizer.client_address import client_address
from recognizer.services import login_limits


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed logins for this user name or from this address. Try again in %(minutes)d minute.",
        "Too many failed logins for this user name or from this address. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class SignupForm(UserCreationForm):
    """Django's own sign-up form: a user name, an e-mail address if they like, and the password twice,
    checked by the password validators."""

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail address")
        self.fields["email"].help_text = _("Optional. Only used to send you a link if you forget your password.")


class LockoutAwareLoginMixin:
    """A login form that says so when the name or the address is locked out after too many failed logins,
    instead of "wrong password" (LoginLockoutBackend refuses those logins before checking anything)."""

    def get_invalid_login_error(self):
        seconds = login_limits.login_lockout_seconds(
            username=self.cleaned_data.get("username") or "",
            address=client_address(self.request) if self.request is not None else "",
        )
        if seconds > 0:
            return forms.ValidationError(lockout_message(seconds), code="locked_out")
        return super().get_invalid_login_error()


class LoginForm(LockoutAwareLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(LockoutAwareLoginMixin, AdminAuthenticationForm):
    pass


class ResetRequestForm(PasswordResetForm):
    """Django's form, with the e-mail field called as on the rest of the site, and a limit on the mails sent
    (services.password_reset_mail_allowed). Over the limit the page answers as always, and no mail goes."""

    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def save(self, *args, request=None, **kwargs):
        address = client_address(request) if request is not None else ""
        if not login_limits.password_reset_mail_allowed(email=self.cleaned_data["email"], address=address):
            return None
        return super().save(*args, request=request, **kwargs)


class AccountEmailForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        required=False,
        help_text=_("Optional. Only used to send you a link if you forget your password."),
    )


class AccountDeleteForm(forms.Form):
    """Deleting an account asks for its password, checked like a login (and counted against its limits)."""

    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, request, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        if authenticate(self.request, username=user.get_username(), password=password) is None:
            seconds = login_limits.login_lockout_seconds(
                username=user.get_username(), address=client_address(self.request)
            )
            if seconds > 0:
                raise forms.ValidationError(lockout_message(seconds), code="locked_out")
            raise forms.ValidationError(_("That is not your password."), code="wrong_password")
        return password
