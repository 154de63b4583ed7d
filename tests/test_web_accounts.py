"""Accounts on the website: sign up, log in and out, change the password; which pages need a login."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.prediction_rows import finished_prediction

pytestmark = pytest.mark.django_db


def logged_in_user(client):
    return client.session.get("_auth_user_id")


def test_a_visitor_signs_up_and_is_logged_in_on_the_upload_page(client):
    response = client.post(
        reverse("signup"),
        {"username": "carol", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("upload")
    carol = get_user_model().objects.get(username="carol")
    assert logged_in_user(client) == str(carol.pk)
    assert client.get(reverse("upload")).status_code == 200


def test_sign_up_with_mismatched_passwords_says_so_and_creates_nobody(client):
    response = client.post(
        reverse("signup"),
        {"username": "carol", "password1": "a-long-passphrase-42", "password2": "another-passphrase-42"},
    )
    assert response.status_code == 200
    assert "password fields didn" in response.content.decode()
    assert not get_user_model().objects.filter(username="carol").exists()


def test_sign_up_with_a_taken_name_is_refused(client, alice):
    response = client.post(
        reverse("signup"),
        {"username": "alice", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert get_user_model().objects.filter(username="alice").count() == 1


def test_alice_logs_in_and_out(client, alice, password):
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302 and response["Location"] == reverse("upload")
    assert logged_in_user(client) == str(alice.pk)
    assert "alice" in client.get(reverse("upload")).content.decode()

    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert logged_in_user(client) is None


def test_a_wrong_password_does_not_log_in(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "not-her-password"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert logged_in_user(client) is None


def test_login_takes_alice_back_to_the_page_she_asked_for(client, alice, password):
    history = reverse("history")
    response = client.get(history)
    assert response.status_code == 302
    login_url = response["Location"]
    assert login_url.startswith(reverse("login")) and "next=" in login_url
    response = client.post(login_url, {"username": "alice", "password": password, "next": history})
    assert response["Location"] == history


def test_alice_changes_her_password(alice_client, alice, password, client):
    response = alice_client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": "a-brand-new-secret-9", "new_password2": "a-brand-new-secret-9"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    assert "Password changed" in alice_client.get(reverse("password_change_done")).content.decode()
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-secret-9")
    assert not alice.check_password(password)


def test_a_wrong_old_password_does_not_change_it(alice_client, alice, password):
    response = alice_client.post(
        reverse("password_change"),
        {"old_password": "guess", "new_password1": "a-brand-new-secret-9", "new_password2": "a-brand-new-secret-9"},
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(password)


def test_home_and_help_are_public(client):
    assert client.get(reverse("home")).status_code == 200
    response = client.get(reverse("help"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "One number per picture" in page and "Leave a small gap between the digits" in page


def test_every_other_page_sends_a_visitor_to_log_in(client, alice):
    prediction = finished_prediction(alice)
    pages = [
        ("get", reverse("upload")),
        ("post", reverse("upload")),
        ("get", reverse("draw")),
        ("post", reverse("draw")),
        ("get", reverse("history")),
        ("get", reverse("prediction_detail", args=[prediction.pk])),
        ("get", reverse("prediction_status", args=[prediction.pk])),
        ("get", reverse("prediction_picture", args=[prediction.pk, "upload"])),
        ("get", reverse("prediction_picture", args=[prediction.pk, "input"])),
        ("post", reverse("prediction_feedback", args=[prediction.pk])),
        ("post", reverse("prediction_correct_digit", args=[prediction.pk])),
        ("post", reverse("prediction_delete", args=[prediction.pk])),
        ("post", reverse("predictions_bulk_delete")),
        ("get", reverse("password_change")),
    ]
    for method, url in pages:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    prediction.refresh_from_db()  # still there: nothing was deleted or changed
    assert prediction.true_digits == ""


def test_the_language_switcher_shows_the_site_in_tamil_and_hindi(client):
    client.post(reverse("set_language"), {"language": "ta", "next": reverse("help")})
    tamil = client.get(reverse("help")).content.decode()
    assert 'lang="ta"' in tamil
    assert "உதவி" in tamil  # "Help"
    client.post(reverse("set_language"), {"language": "hi", "next": reverse("help")})
    hindi = client.get(reverse("help")).content.decode()
    assert 'lang="hi"' in hindi
    assert "सहायता" in hindi  # "Help"
