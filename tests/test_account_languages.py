"""The sign-up, login, password and account pages in Tamil and Hindi hold none of these English strings
(issue 12): ours, and Django's that Django ships no Tamil or Hindi for (username help, every password
validator's help and message, "Password confirmation", the password forms' errors).
"""

from __future__ import annotations

import html

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.prediction_rows import finished_prediction

pytestmark = pytest.mark.django_db

ENGLISH = [
    # Django's, on the sign-up and password pages
    "Password confirmation",
    "Enter the same password as before, for verification",
    "didn’t match",
    "Required. 150 characters or fewer",
    "Letters, digits and @/./+/-/_ only",
    "Enter a valid username",
    "A user with that username already exists",
    "Your password can’t be too similar to your other personal information",
    "Your password must contain at least",
    "Your password can’t be a commonly used password",
    "Your password can’t be entirely numeric",
    "The password is too similar to the",
    "This password is too short",
    "This password is too common",
    "This password is entirely numeric",
    "Please enter a correct",
    "Old password",
    "New password",
    "Your old password was entered incorrectly",
    "Enter a valid email address",
    "Username",
    "Password",
    "This field is required",
    # Ours
    "Your account",
    "Signed in as",
    "API token",
    "Download my data",
    "Delete my account",
    "Forgot your password?",
    "Too many failed logins",
    "That is not your password",
    "Optional. Only used to send you a link",
    "E-mail address",
    "Send me the link",
    "Check your e-mail",
    "Set a new password",
    "Set my new password",
    "This link does not work",
    "Password set",
    "Password changed",
    "If you had an API token",
    "You may want to",
    "Keep my account",
    "Replace with a new token",
    "Revoke the token",
    "Create a token",
    "You have no API token",
]


def english_in(response) -> list[str]:
    assert response.status_code in (200, 400), response.status_code
    text = html.unescape(response.content.decode())
    return [phrase for phrase in ENGLISH if phrase in text]


def pages(client, user, password):
    """(name, response) of every account page, with the errors each form can show."""
    yield "signup", client.get(reverse("signup"))
    bad = {"username": "bad name!", "email": "bad", "password1": "1234", "password2": "1234"}
    yield "signup: short, common, numeric", client.post(reverse("signup"), bad)
    similar = {"username": "carolsmith", "email": "", "password1": "carolsmith", "password2": "carolsmith"}
    yield "signup: similar", client.post(reverse("signup"), similar)
    taken = {"username": user.username, "password1": "long-enough-pass-1", "password2": "long-enough-pass-2"}
    yield "signup: taken, mismatch", client.post(reverse("signup"), taken)
    yield "signup: empty", client.post(reverse("signup"), {"username": ""})
    yield "login", client.get(reverse("login"))
    yield "login: wrong", client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    yield "password reset", client.get(reverse("password_reset"))
    yield "password reset: bad", client.post(reverse("password_reset"), {"email": "bad"})
    yield "password reset sent", client.get(reverse("password_reset_done"), follow=True)
    mail.outbox.clear()
    client.post(reverse("password_reset"), {"email": user.email})
    link = next(word for word in mail.outbox[0].body.split() if "/reset/" in word).split("testserver", 1)[1]
    confirm = client.get(link, follow=True)
    yield "password reset confirm", confirm
    yield (
        "password reset confirm: short",
        client.post(confirm.redirect_chain[-1][0], {"new_password1": "1234", "new_password2": "1234"}),
    )
    yield (
        "password reset confirm: mismatch",
        client.post(
            confirm.redirect_chain[-1][0],
            {"new_password1": "long-enough-pass-1", "new_password2": "long-enough-pass-2"},
        ),
    )
    old_link = client.get(reverse("password_reset_confirm", args=["MQ", "bad-token"]))
    assert old_link.context["validlink"] is False
    yield "password reset: old link", old_link
    yield "password reset complete", client.get(reverse("password_reset_complete"))
    with override_settings(LOGIN_FAILURES_PER_USERNAME=1):
        yield "login: locked out", client.post(reverse("login"), {"username": "locked", "password": "wrong"})

    client.force_login(user)
    yield "account, no token", client.get(reverse("account"))
    Token.objects.create(user=user)
    finished_prediction(user)
    yield "account, a token", client.get(reverse("account"))
    yield "account: bad e-mail", client.post(reverse("account_email"), {"email": "bad"})
    yield "delete", client.get(reverse("account_delete"))
    yield "delete: wrong password", client.post(reverse("account_delete"), {"password": "wrong"})
    yield "delete: empty", client.post(reverse("account_delete"), {"password": ""})
    yield "password change", client.get(reverse("password_change"))
    wrong = {"old_password": "wrong", "new_password1": "1234", "new_password2": "12345"}
    yield "password change: wrong", client.post(reverse("password_change"), wrong)
    yield (
        "password change: short",
        client.post(
            reverse("password_change"), {"old_password": password, "new_password1": "1234", "new_password2": "1234"}
        ),
    )
    yield "password changed", client.get(reverse("password_change_done"))


@pytest.mark.parametrize("language", ["ta", "hi"])
def test_no_account_page_shows_english_in_tamil_or_hindi(client, alice, password, language):
    client.cookies["django_language"] = language
    left = {name: english_in(response) for name, response in pages(client, alice, password)}
    assert {name: phrases for name, phrases in left.items() if phrases} == {}


def test_the_same_pages_in_english_show_those_strings(client, alice, password):
    """The list is not stale: every phrase is on an English page."""
    shown = set()
    for _name, response in pages(client, alice, password):
        shown.update(english_in(response))
    assert set(ENGLISH) - shown == set()
