"""Bad uploads through the upload page: each gets its own clear message, status 400, and nothing is kept:
no row, no file."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from recognizer.models import Prediction
from tests.drawings import drawing_png
from tests.images import encode, paper_photo

pytestmark = pytest.mark.django_db


def files_in_media() -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


@pytest.fixture
def nothing_kept(alice):
    """Asserts after the test that the upload left no row and no new file behind."""
    before = set(files_in_media())
    yield
    assert not Prediction.objects.filter(user=alice).exists()
    assert set(files_in_media()) == before


def refused(client, *files, expected: str) -> None:
    response = client.post(reverse("upload"), {"images": list(files)})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="upload-error"' in page
    assert expected in page, page[page.find("upload-error") : page.find("upload-error") + 400]


def jpeg(name: str = "seven.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, paper_photo(7), content_type="image/jpeg")


def test_text_named_png_is_not_an_image(alice_client, nothing_kept):
    notes = SimpleUploadedFile("x.png", b"these are my shopping notes, not a picture\n" * 20, content_type="image/png")
    refused(alice_client, notes, expected="x.png is not a picture we can read. Use JPEG, PNG, WebP, BMP or GIF.")


def test_an_empty_file_is_refused(alice_client, nothing_kept):
    empty = SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg")
    refused(alice_client, empty, expected="empty.jpg is empty.")


@override_settings(UPLOAD_MAX_BYTES=20_000)
def test_a_file_over_the_size_limit_is_refused(alice_client, nothing_kept):
    big = SimpleUploadedFile("big.png", encode(Image.effect_noise((300, 300), 60)), content_type="image/png")
    assert big.size > 20_000
    refused(alice_client, big, expected="big.png is too large")


@override_settings(UPLOAD_MAX_PIXELS=100_000)
def test_a_picture_with_too_many_pixels_is_refused(alice_client, nothing_kept):
    refused(
        alice_client,
        SimpleUploadedFile("huge.jpg", paper_photo(7, size=400), content_type="image/jpeg"),
        expected="huge.jpg has too many pixels: at most 0.1 megapixels are accepted.",
    )


def test_a_png_header_claiming_a_huge_size_is_refused_without_decoding(alice_client, nothing_kept):
    # A real PNG signature and IHDR chunk for a 100000 x 100000 picture: a decompression bomb by its header.
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    pixels = chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + pixels + chunk(b"IEND", b"")
    refused(alice_client, SimpleUploadedFile("bomb.png", bomb), expected="bomb.png has too many pixels")


def test_a_tiff_named_png_is_refused_for_what_it_is(alice_client, nothing_kept):
    tiff = encode(Image.open(io.BytesIO(paper_photo(3))), "TIFF")
    refused(
        alice_client,
        SimpleUploadedFile("three.png", tiff, content_type="image/png"),
        expected="three.png is a kind of picture we do not accept. Use JPEG, PNG, WebP, BMP or GIF.",
    )


def test_a_pdf_named_jpg_is_not_an_image(alice_client, nothing_kept):
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    refused(alice_client, SimpleUploadedFile("scan.jpg", pdf), expected="scan.jpg is not a picture we can read.")


def test_a_truncated_jpeg_is_refused_as_damaged(alice_client, nothing_kept):
    data = paper_photo(7)
    refused(alice_client, SimpleUploadedFile("cut.jpg", data[: len(data) // 2]), expected="cut.jpg is damaged")


@override_settings(UPLOAD_MAX_FILES=2)
def test_too_many_files_at_once_are_refused(alice_client, nothing_kept):
    three = [jpeg("a.jpg"), jpeg("b.jpg"), jpeg("c.jpg")]
    refused(alice_client, *three, expected="At most 2 pictures at once; you sent 3.")


def test_no_file_at_all_asks_for_one(alice_client, nothing_kept):
    refused(alice_client, expected="Choose at least one picture.")


def test_one_bad_file_among_good_ones_keeps_none_of_them(alice_client, nothing_kept):
    notes = SimpleUploadedFile("notes.png", b"not a picture at all", content_type="image/png")
    refused(alice_client, jpeg("a.jpg"), notes, jpeg("b.jpg"), expected="notes.png is not a picture we can read.")


def test_the_upload_page_shows_the_limits(alice_client):
    page = alice_client.get(reverse("upload")).content.decode()
    assert "Up to 20 pictures at once, at most 10 MB each" in page
    assert 'data-max-files="20"' in page and f'data-max-bytes="{10 * 1024 * 1024}"' in page


def test_a_bad_drawing_is_refused_with_a_message_and_nothing_kept(alice_client, nothing_kept):
    response = alice_client.post(
        reverse("draw"), {"drawing": SimpleUploadedFile("drawing.png", b"")}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "drawing.png is empty."


@override_settings(UPLOAD_MAX_BYTES=1000)
def test_a_drawing_over_the_size_limit_is_refused(alice_client, nothing_kept):
    drawing = SimpleUploadedFile("drawing.png", drawing_png(1), content_type="image/png")
    response = alice_client.post(reverse("draw"), {"drawing": drawing}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "drawing.png is too large" in response.json()["error"]


def test_the_reason_is_given_in_the_visitors_language(alice_client, nothing_kept):
    notes = SimpleUploadedFile("x.png", b"not a picture", content_type="image/png")
    response = alice_client.post(reverse("upload"), {"images": [notes]}, HTTP_ACCEPT_LANGUAGE="hi")
    assert response.status_code == 400
    assert "x.png ऐसी तस्वीर नहीं है जिसे हम पढ़ सकें।" in response.content.decode()
    response = alice_client.post(reverse("upload"), {}, HTTP_ACCEPT_LANGUAGE="ta")
    assert "குறைந்தது ஒரு படத்தைத் தேர்வுசெய்யுங்கள்." in response.content.decode()


def test_more_files_than_django_will_parse_get_a_page_that_says_to_send_fewer(alice_client, nothing_kept):
    # Beyond DATA_UPLOAD_MAX_NUMBER_FILES Django refuses to read the request at all, before our view runs.
    photos = [jpeg(f"{n}.jpg") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    response = alice_client.post(reverse("upload"), {"images": photos})
    assert response.status_code == 400
    assert "send fewer at once" in response.content.decode()


def test_a_server_error_gets_the_sites_own_page_in_the_visitors_language(rf):
    from django.utils import translation
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "The server could not answer this time." in response.content.decode()
    with translation.override("hi"):
        hindi = server_error(rf.get("/")).content.decode()
    assert "The server could not answer this time." not in hindi and 'lang="hi"' in hindi
