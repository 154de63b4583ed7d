"""Hostile input: pictures made to exhaust memory, and requests made to crash the server.

Each test is a finding of issue 11 ("Abuse"), sent through the real URL with real bytes.
"""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from mlcore.preprocessing import decode_image
from recognizer import pictures
from recognizer.models import Prediction
from tests.images import encode, paper_photo
from tests.picture_memory import measure, memory_bomb_png

pytestmark = pytest.mark.django_db

API = "/api/v1"
# What the 7000x7000 RGBA picture takes once decoded, as Pillow holds it (4 bytes a pixel).
BOMB_DECODED_MB = 7000 * 7000 * 4 / 2**20


@pytest.fixture(scope="session")
def bomb_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(memory_bomb_png())
    return path


@pytest.fixture
def alice_api(alice) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=alice)[0].key}")
    return client


def stored_prediction(user, data: bytes, name: str = "picture.png") -> Prediction:
    prediction = Prediction(user=user, created_at=timezone.now(), status=Prediction.Status.DONE, original_name=name)
    prediction.image.save(name, ContentFile(data), save=False)
    prediction.save()
    return prediction


# --- A 230 KB PNG of 7000x7000 pixels with transparency ---


def test_the_bomb_is_small_as_a_file_and_within_the_pixel_limit(bomb_path):
    with Image.open(bomb_path) as picture:
        assert picture.size == (7000, 7000) and picture.mode == "RGBA"
    assert bomb_path.stat().st_size < 300_000


def test_the_upload_check_reads_only_its_header(bomb_path):
    """The web process answers an upload without decoding it: no memory, no CPU to speak of."""
    cost = measure("upload", bomb_path)
    assert cost["peak_mb"] < 30, cost
    assert cost["cpu_s"] < 0.5, cost


def test_the_worker_decodes_it_within_its_decoded_size_and_makes_no_float_copy(bomb_path):
    """decode_image and find_number (all the worker does before the model): at most about one and a half
    times the decoded picture, and numpy never holds more than a few megabytes (a float copy: 196 MB)."""
    cost = measure("read", bomb_path)
    assert cost["peak_mb"] < 1.6 * BOMB_DECODED_MB, cost
    assert cost["traced_peak_mb"] < 20, cost


def test_its_thumbnail_is_made_without_a_copy_of_the_picture(bomb_path):
    cost = measure("thumbnail", bomb_path)
    assert cost["peak_mb"] < 1.3 * BOMB_DECODED_MB, cost


def test_the_worker_reads_it_to_one_grey_byte_a_pixel(bomb_path):
    picture = decode_image(bomb_path.read_bytes())
    assert picture.mode == "L" and picture.size == (7000, 7000)
    # The transparent page became white under the dark stroke, which stayed dark.
    assert picture.getpixel((100, 100)) == 255 and picture.getpixel((3000, 1200)) == 0


@override_settings(UPLOAD_MAX_DECODED_BYTES=100_000_000)
def test_a_picture_over_the_decoded_size_limit_is_refused_at_upload(alice_api, alice_client, bomb_path):
    upload = io.BytesIO(bomb_path.read_bytes())
    upload.name = "bomb.png"
    response = alice_api.post(f"{API}/predictions/", {"image": upload}, format="multipart")
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "too_large_decoded"
    assert (
        response.json()["detail"] == "bomb.png is too big a picture to read: it would take more than 100 MB of memory."
    )

    upload.seek(0)
    page = alice_client.post(reverse("upload"), {"images": [upload]})
    assert page.status_code == 400
    assert "bomb.png is too big a picture to read" in page.content.decode()
    assert not Prediction.objects.exists()


def test_a_png_cut_short_is_refused_at_upload_from_its_chunks(alice_client):
    data = paper_photo(4, image_format="PNG")
    page = alice_client.post(reverse("upload"), {"images": [ContentFile(data[: len(data) // 2], name="cut.png")]})
    assert page.status_code == 400
    assert "cut.png is damaged or cut short" in page.content.decode()


def test_a_thumbnail_is_decoded_once_then_served_from_the_cache(alice_client, alice, staff, monkeypatch):
    cache.clear()
    prediction = stored_prediction(alice, encode(Image.open(io.BytesIO(paper_photo(3))), "PNG"))
    decoded = []
    real_thumbnail_png = pictures.thumbnail_png
    monkeypatch.setattr(
        pictures, "thumbnail_png", lambda stored: decoded.append(stored.name) or real_thumbnail_png(stored)
    )
    staff_client = Client()
    staff_client.force_login(staff)

    first = alice_client.get(reverse("prediction_picture", args=[prediction.pk, "upload"]), {"size": "thumb"})
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    for _ in range(3):
        again = alice_client.get(reverse("prediction_picture", args=[prediction.pk, "upload"]), {"size": "thumb"})
        assert again.content == first.content
    admin = staff_client.get(
        reverse("admin:recognizer_prediction_picture", args=[prediction.pk, "upload"]), {"size": "thumb"}
    )
    assert admin.content == first.content
    assert decoded == [prediction.image.name]
    with Image.open(io.BytesIO(first.content)) as thumbnail:
        assert max(thumbnail.size) == pictures.THUMBNAIL_SIZE


# --- A file is stored with the extension of what it is, not of the name it was sent with ---


def gif_bytes() -> bytes:
    return encode(Image.open(io.BytesIO(paper_photo(5, image_format="PNG"))).convert("P"), "GIF")


def test_a_gif_sent_as_evil_html_is_stored_as_gif(alice_client, alice):
    response = alice_client.post(reverse("upload"), {"images": [ContentFile(gif_bytes(), name="evil.html")]})
    assert response.status_code == 302
    prediction = Prediction.objects.get(user=alice)
    assert prediction.image.name.endswith(".gif"), prediction.image.name
    assert prediction.original_name == "evil.html"  # shown to its owner as they named it
    picture = alice_client.get(reverse("prediction_picture", args=[prediction.pk, "upload"]))
    assert picture["Content-Type"] == "image/gif"


@pytest.mark.parametrize(
    ("name", "data", "extension"),
    [
        ("photo.jpg", lambda: paper_photo(2, image_format="PNG"), ".png"),
        ("scan.png", lambda: paper_photo(2), ".jpg"),
        ("no-extension", lambda: paper_photo(2, image_format="WEBP"), ".webp"),
        ("page.svg", lambda: paper_photo(2, image_format="BMP"), ".bmp"),
    ],
)
def test_every_upload_is_stored_with_the_extension_of_its_content(alice_api, alice, name, data, extension):
    upload = io.BytesIO(data())
    upload.name = name
    response = alice_api.post(f"{API}/predictions/", {"image": upload}, format="multipart")
    assert response.status_code in (201, 202), response.content
    stored = Prediction.objects.get(user=alice).image.name
    assert stored.endswith(extension) and name.rsplit(".", 1)[0] not in stored, stored


# --- Requests made to crash the server get a clear 4xx with a message ---

HUGE_ID = "99999999999999999999999"  # more than a 64-bit id can hold


@pytest.mark.parametrize("ids", [[HUGE_ID], ["9223372036854775808"], ["0"], ["-5"], ["seven"], ["1" * 5000]])
def test_bulk_delete_with_an_id_no_row_can_have_is_a_400_that_says_so(alice_client, alice, ids):
    kept = stored_prediction(alice, paper_photo(1))
    response = alice_client.post(reverse("predictions_bulk_delete"), {"ids": [kept.pk, *ids]})
    assert response.status_code == 400
    assert "Those are not pictures of yours." in response.content.decode()
    assert Prediction.objects.filter(pk=kept.pk).exists()


def test_bulk_delete_with_nothing_chosen_still_goes_back_to_the_history_saying_so(alice_client):
    response = alice_client.post(reverse("predictions_bulk_delete"), {})
    assert response.status_code == 302
    assert "Select at least one picture." in alice_client.get(response["Location"]).content.decode()


def test_the_page_of_one_uploads_answers_with_an_impossible_id_is_a_404(alice_client):
    assert alice_client.get(reverse("predictions_sent"), {"ids": [HUGE_ID]}).status_code == 404


def deeply_nested(levels: int, kind: str) -> str:
    return "[" * levels + "]" * levels if kind == "list" else '{"a": ' * levels + "1" + "}" * levels


@pytest.mark.parametrize("kind", ["list", "object"])
def test_json_nested_1000_deep_sent_to_patch_is_a_400(alice_api, alice, kind):
    prediction = stored_prediction(alice, paper_photo(1))
    response = alice_api.generic(
        "PATCH", f"{API}/predictions/{prediction.pk}/", deeply_nested(1000, kind), content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json() == {"detail": "The JSON is nested too deeply: at most 32 levels.", "code": "too_deep"}


def test_json_nested_deep_but_within_pythons_limit_is_refused_too(alice_api, alice):
    prediction = stored_prediction(alice, paper_photo(1))
    body = '{"true_digits": "7", "extra": ' + deeply_nested(100, "list") + "}"
    response = alice_api.generic("PATCH", f"{API}/predictions/{prediction.pk}/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "too_deep"


def test_json_nested_1000_deep_sent_to_the_token_endpoint_is_a_400():
    response = APIClient().generic(
        "POST", f"{API}/auth/token/", deeply_nested(1000, "object"), content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"] == "too_deep"


@pytest.mark.parametrize("path", ["docs", "schema", "predictions", "model"])
@pytest.mark.parametrize("token", ["Token not-a-real-token", None])
def test_an_unknown_format_is_a_json_404_even_with_a_bad_token(path, token):
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=token)
    response = client.get(f"{API}/{path}/", {"format": "xyz"})
    assert response.status_code == 404, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "There is no xyz version of this address; leave out ?format.",
        "code": "unknown_format",
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"created_to": "9999-12-31"}, "Ensure this value is less than or equal to 9998-12-31."),
        ({"created_from": "9999-12-31"}, "Ensure this value is less than or equal to 9998-12-31."),
        ({"created_from": "0001-01-01"}, "Ensure this value is greater than or equal to 1900-01-01."),
        ({"created_from": "2026-02-01", "created_to": "2026-01-01"}, "The end date is before the start date."),
    ],
)
def test_the_dashboard_with_dates_it_cannot_count_is_a_400_with_the_reason(client, staff, alice, query, message):
    stored_prediction(alice, paper_photo(1))
    client.force_login(staff)
    response = client.get(reverse("admin:recognizer_prediction_dashboard"), query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'class="confusion-matrix"' not in response.content.decode()


def test_an_admin_action_on_an_impossible_id_is_a_400(client, staff, alice):
    kept = stored_prediction(alice, paper_photo(1))
    client.force_login(staff)
    for action in ("delete_selected", "confirm_labels"):
        response = client.post(
            reverse("admin:recognizer_prediction_changelist"),
            {"action": action, "_selected_action": [kept.pk, HUGE_ID]},
        )
        assert response.status_code == 400, action
        assert "Those are not predictions" in response.content.decode()
    assert Prediction.objects.filter(pk=kept.pk, staff_digits="").exists()


def test_the_history_and_the_api_take_the_last_day_of_the_calendar(alice_client, alice_api, alice):
    shown = stored_prediction(alice, paper_photo(1))
    response = alice_client.get(reverse("history"), {"created_to": "9999-12-31", "created_from": "0001-01-01"})
    assert response.status_code == 200
    assert [prediction.pk for prediction, _ in response.context["rows"]] == [shown.pk]
    listed = alice_api.get(f"{API}/predictions/", {"created_before": "9999-12-31", "created_after": "0001-01-01"})
    assert listed.status_code == 200 and listed.json()["count"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "created_at__year=10000",
        "created_at__year=0",
        "finished_at__year=99999999999",
        "created_at__year=12345678901234567890",
    ],
)
def test_the_admin_list_filtered_by_a_year_outside_the_calendar_is_a_400(client, staff, alice, query):
    stored_prediction(alice, paper_photo(1))
    client.force_login(staff)
    response = client.get(reverse("admin:recognizer_prediction_changelist") + "?" + query)
    assert response.status_code == 400
    assert "A year in the filters must be a number from 1 to 9999." in response.content.decode()


def test_the_admin_list_filtered_by_a_real_year_still_works(client, staff, alice):
    shown = stored_prediction(alice, paper_photo(1))
    client.force_login(staff)
    this_year = timezone.now().year
    response = client.get(reverse("admin:recognizer_prediction_changelist"), {"created_at__year": this_year})
    assert response.status_code == 200
    assert [row.pk for row in response.context["cl"].result_list] == [shown.pk]


# --- What is answered to a signed-in person is kept by no shared cache ---


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def test_the_history_and_result_pages_are_private_and_not_stored(alice_client, alice):
    prediction = stored_prediction(alice, paper_photo(1))
    for url in (
        reverse("history"),
        reverse("prediction_detail", args=[prediction.pk]),
        reverse("prediction_status", args=[prediction.pk]),
        reverse("predictions_sent") + f"?ids={prediction.pk}",
        reverse("upload"),
    ):
        response = alice_client.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= cache_control(response) or cache_control(response) == {"no-store"}, url


def test_a_users_pictures_may_be_kept_by_their_browser_only(alice_client, alice):
    prediction = stored_prediction(alice, paper_photo(1))
    for query in ("", "?size=thumb"):
        response = alice_client.get(reverse("prediction_picture", args=[prediction.pk, "upload"]) + query)
        assert response.status_code == 200
        assert "private" in cache_control(response) and "public" not in cache_control(response)


def test_every_api_answer_to_a_user_is_private_and_not_stored(alice_api, alice):
    prediction = stored_prediction(alice, paper_photo(1))
    for url in (
        f"{API}/predictions/",
        f"{API}/predictions/{prediction.pk}/",
        f"{API}/predictions/{prediction.pk + 1000}/",  # a 404 too
    ):
        assert {"private", "no-store"} <= cache_control(alice_api.get(url)), url
    image = alice_api.get(f"{API}/predictions/{prediction.pk}/image/")
    assert "private" in cache_control(image)
    upload = io.BytesIO(paper_photo(2))
    upload.name = "two.jpg"
    created = alice_api.post(f"{API}/predictions/", {"image": upload}, format="multipart")
    assert created.status_code in (201, 202) and {"private", "no-store"} <= cache_control(created)
    feedback = alice_api.patch(f"{API}/predictions/{prediction.pk}/", {"true_digits": "1"}, format="json")
    assert {"private", "no-store"} <= cache_control(feedback)


def test_a_new_token_is_never_stored(alice, password):
    response = APIClient().post(f"{API}/auth/token/", {"username": "alice", "password": password}, format="json")
    assert response.status_code == 200
    assert "no-store" in cache_control(response)


def test_pages_for_everyone_are_left_to_the_cache(client):
    assert "private" not in cache_control(client.get(reverse("home")))


# --- A picture with one dark speck ---


def one_speck_png(size: int = 200, radius: int = 0) -> bytes:
    """A white page with one black pixel (radius 0) or a dot of that radius in its middle."""
    page = Image.new("RGB", (size, size), "white")
    centre = size // 2
    if radius:
        ImageDraw.Draw(page).ellipse([centre - radius, centre - radius, centre + radius, centre + radius], fill="black")
    else:
        page.putpixel((centre, centre), (0, 0, 0))
    return encode(page, "PNG")


@pytest.mark.parametrize(("size", "radius"), [(200, 0), (28, 0), (400, 2), (1000, 1)])
def test_a_picture_with_one_dark_speck_is_answered_not_failed(
    alice_client, alice, django_capture_on_commit_callbacks, size, radius
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("upload"), {"images": [ContentFile(one_speck_png(size, radius), name="speck.png")]})
    prediction = Prediction.objects.get(user=alice)
    assert prediction.status == Prediction.Status.DONE, prediction.error
    assert prediction.error == ""
    assert prediction.digits == ""


@pytest.mark.parametrize(("size", "radius"), [(200, 0), (28, 0), (400, 2), (1000, 1)])
def test_a_picture_with_one_dark_speck_says_no_digit_found(
    alice_client, alice, django_capture_on_commit_callbacks, size, radius
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("upload"), {"images": [ContentFile(one_speck_png(size, radius), name="speck.png")]})
    status = alice_client.get(reverse("prediction_status", args=[Prediction.objects.get(user=alice).pk])).json()
    assert status["no_digit_found"] is True


def test_the_worker_keeps_to_the_decoded_memory_budget_too(alice, settings):
    from recognizer import services

    prediction = Prediction(user=alice, created_at=timezone.now(), original_name="four.jpg")
    prediction.image.save("four.jpg", ContentFile(paper_photo(4)), save=True)  # 400x400, read in grey: 160 KB
    settings.UPLOAD_MAX_DECODED_BYTES = 100_000  # lowered after it was stored: only the worker can refuse it

    read = services.prediction_run(prediction_id=prediction.pk)

    assert read.status == Prediction.Status.FAILED
    assert "would take 0.2 MB once decoded; at most 0.1 MB are accepted" in read.error
