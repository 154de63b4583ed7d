"""The account page (issue 12): e-mail address, API token, download my data, delete my account."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from recognizer import services
from recognizer.models import Prediction
from tests.prediction_rows import finished_prediction

pytestmark = pytest.mark.django_db

API = "/api/v1"


def api_status(token: str) -> int:
    return APIClient(HTTP_AUTHORIZATION=f"Token {token}").get(f"{API}/predictions/").status_code


def stored(name: str) -> bool:
    return bool(name) and default_storage.exists(name)


# --- The page ---


def test_the_header_links_a_signed_in_user_to_the_account_page(alice_client):
    page = alice_client.get(reverse("upload")).content.decode()
    assert f'href="{reverse("account")}"' in page


def test_a_visitor_has_no_account_link_and_the_account_pages_send_them_to_log_in(client):
    assert f'href="{reverse("account")}"' not in client.get(reverse("home")).content.decode()
    for method, name in [
        ("get", "account"),
        ("post", "account_email"),
        ("post", "account_token"),
        ("get", "account_export"),
        ("get", "account_delete"),
        ("post", "account_delete"),
    ]:
        response = getattr(client, method)(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name


def test_the_account_page_offers_every_account_action(alice_client):
    page = alice_client.get(reverse("account")).content.decode()
    for url in ("password_change", "account_email", "account_token", "account_export", "account_delete"):
        assert reverse(url) in page, url
    assert "You have no API token" in page


# --- E-mail address ---


def test_alice_changes_and_removes_her_email_address(alice_client, alice):
    response = alice_client.post(reverse("account_email"), {"email": "alice@new.example"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@new.example"
    assert "alice@new.example" in alice_client.get(reverse("account")).content.decode()

    alice_client.post(reverse("account_email"), {"email": ""})
    alice.refresh_from_db()
    assert alice.email == ""


def test_a_malformed_email_address_is_refused_and_said_so(alice_client, alice):
    response = alice_client.post(reverse("account_email"), {"email": "not an address"})
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_sign_up_takes_an_optional_email_address(client):
    fields = {"password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"}
    assert (
        client.post(reverse("signup"), {"username": "carol", "email": "carol@example.com", **fields}).status_code == 302
    )
    client.post(reverse("logout"))
    assert client.post(reverse("signup"), {"username": "dave", "email": "", **fields}).status_code == 302
    users = get_user_model().objects
    assert users.get(username="carol").email == "carol@example.com"
    assert users.get(username="dave").email == ""


# --- API token ---


def test_alice_creates_sees_replaces_and_revokes_her_api_token(alice_client, alice, bob):
    bobs = Token.objects.create(user=bob).key

    alice_client.post(reverse("account_token"), {"action": "create"})
    first = Token.objects.get(user=alice).key
    assert first in alice_client.get(reverse("account")).content.decode()
    assert api_status(first) == 200

    alice_client.post(reverse("account_token"), {"action": "create"})
    second = Token.objects.get(user=alice).key
    assert second != first and api_status(first) == 401 and api_status(second) == 200

    response = alice_client.post(reverse("account_token"), {"action": "revoke"})
    assert response.status_code == 302
    assert api_status(second) == 401
    assert "You have no API token" in alice_client.get(reverse("account")).content.decode()
    assert api_status(bobs) == 200  # only her own


def test_the_token_is_not_changed_by_a_get(alice_client, alice):
    token = Token.objects.create(user=alice).key
    assert alice_client.get(reverse("account_token")).status_code == 405
    assert Token.objects.get(user=alice).key == token


# --- Download my data ---


def download(client) -> zipfile.ZipFile:
    response = client.get(reverse("account_export"))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_download_holds_alices_predictions_as_csv_and_json_with_their_pictures(alice_client, alice, bob):
    read = finished_prediction(alice, digits="42", true_digits="47")
    failed = finished_prediction(alice, status=Prediction.Status.FAILED)
    finished_prediction(bob, digits="9")

    archive = download(alice_client)

    assert archive.testzip() is None
    records = {record["id"]: record for record in json.loads(archive.read("predictions.json"))}
    assert set(records) == {read.pk, failed.pk}  # nothing of Bob's
    assert records[read.pk]["digits"] == "42" and records[read.pk]["your_answer"] == "47"
    assert records[failed.pk]["status"] == "failed" and records[failed.pk]["model_input"] is None
    with read.image.open("rb") as picture:
        assert archive.read(records[read.pk]["picture"]) == picture.read()
    with read.model_input.open("rb") as model_input:
        assert archive.read(records[read.pk]["model_input"]) == model_input.read()

    rows = list(csv.DictReader(io.StringIO(archive.read("predictions.csv").decode())))
    assert {int(row["id"]) for row in rows} == {read.pk, failed.pk}
    row = next(row for row in rows if int(row["id"]) == read.pk)
    assert row["digits"] == "42" and row["picture"] == records[read.pk]["picture"]
    assert sorted(name for name in archive.namelist() if name.startswith("pictures/")) == sorted(
        [records[read.pk]["picture"], records[read.pk]["model_input"], records[failed.pk]["picture"]]
    )


def test_a_file_name_cannot_become_a_spreadsheet_formula(alice_client, alice):
    prediction = finished_prediction(alice)
    Prediction.objects.filter(pk=prediction.pk).update(original_name='=HYPERLINK("http://evil.example")')
    rows = list(csv.DictReader(io.StringIO(download(alice_client).read("predictions.csv").decode())))
    assert rows[0]["original_name"] == '\'=HYPERLINK("http://evil.example")'


def test_a_picture_missing_from_storage_is_left_out_not_an_error(alice_client, alice):
    prediction = finished_prediction(alice)
    default_storage.delete(prediction.image.name)
    archive = download(alice_client)
    (record,) = json.loads(archive.read("predictions.json"))
    assert record["picture"] is None and record["model_input"] is not None


def test_the_download_is_made_in_bounded_pieces_however_big_the_pictures(alice_client, alice):
    big = finished_prediction(alice)
    noise = os.urandom(3 * 1024 * 1024)  # does not compress: the zip holds it whole
    big.image.save("big.png", ContentFile(noise), save=True)
    for _ in range(3):
        finished_prediction(alice)

    response = alice_client.get(reverse("account_export"))
    pieces = [len(piece) for piece in response.streaming_content]

    assert sum(pieces) > 3 * 1024 * 1024
    assert max(pieces) <= services.accounts.EXPORT_CHUNK_BYTES * 2


# --- Delete my account ---


def test_the_delete_page_asks_for_the_password(alice_client, alice):
    finished_prediction(alice)
    page = alice_client.get(reverse("account_delete")).content.decode()
    assert 'type="password"' in page and "1 picture" in page


def test_a_wrong_password_deletes_nothing(alice_client, alice):
    prediction = finished_prediction(alice)
    response = alice_client.post(reverse("account_delete"), {"password": "not-hers"})
    assert response.status_code == 400
    assert "That is not your password" in response.content.decode()
    assert get_user_model().objects.filter(pk=alice.pk).exists()
    assert stored(prediction.image.name)


def test_alice_deletes_her_account_with_all_her_pictures_and_bobs_stay(
    alice_client, alice, bob, password, django_capture_on_commit_callbacks
):
    hers = [finished_prediction(alice), finished_prediction(alice, digits="123")]
    his = finished_prediction(bob)
    Token.objects.create(user=alice)
    files = [name for p in hers for name in (p.image.name, p.model_input.name) if name]
    assert len(files) == 4 and all(stored(name) for name in files)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("account_delete"), {"password": password})

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not get_user_model().objects.filter(pk=alice.pk).exists()
    assert not Prediction.objects.filter(pk__in=[p.pk for p in hers]).exists()
    assert not Token.objects.filter(user_id=alice.pk).exists()
    assert not any(stored(name) for name in files)
    assert "_auth_user_id" not in alice_client.session  # logged out
    assert alice_client.get(reverse("upload")).status_code == 302
    # Bob's account and pictures are untouched.
    assert Prediction.objects.filter(pk=his.pk).exists() and stored(his.image.name)


def test_a_deletion_that_fails_leaves_the_account_and_every_picture_whole(
    alice_client, alice, password, monkeypatch, django_capture_on_commit_callbacks
):
    prediction = finished_prediction(alice)

    def broken_delete(self, *args, **kwargs):
        raise RuntimeError("the database went away mid-delete")

    monkeypatch.setattr(get_user_model(), "delete", broken_delete)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        alice_client.post(reverse("account_delete"), {"password": password})

    assert get_user_model().objects.filter(pk=alice.pk).exists()
    assert Prediction.objects.filter(pk=prediction.pk).exists()
    assert stored(prediction.image.name) and stored(prediction.model_input.name)


def test_a_picture_that_cannot_be_removed_is_logged_and_the_rest_are_removed(
    alice_client, alice, password, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from django.core.files.storage import FileSystemStorage

    first, second = finished_prediction(alice), finished_prediction(alice)
    original_delete = FileSystemStorage.delete

    def delete(self, name):
        if name == first.image.name:
            raise PermissionError("read-only file")
        return original_delete(self, name)

    monkeypatch.setattr(FileSystemStorage, "delete", delete)
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_client.post(reverse("account_delete"), {"password": password}).status_code == 302

    assert not get_user_model().objects.filter(pk=alice.pk).exists()
    assert stored(first.image.name) and first.image.name in caplog.text
    assert not any(stored(name) for name in (first.model_input.name, second.image.name, second.model_input.name))
