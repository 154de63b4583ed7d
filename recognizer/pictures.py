"""Serving stored pictures (uploads and 28x28 model inputs) to the one who may see them.

The website, the API and the admin each check who may see a picture; this module only turns the stored
file into a response. media/ is never served publicly.
"""

from __future__ import annotations

import hashlib
import io

from django.conf import settings
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse
from PIL import Image, ImageOps

from mlcore.preprocessing import decoded_bytes

PICTURE_KINDS = ("upload", "input")
THUMBNAIL_SIZE = 96
# A thumbnail is made once per stored picture and kept this long in the cache (Redis, shared by every web
# process, when CACHE_URL is set): a page of 50 uploads must not decode 50 pictures on every visit.
THUMBNAIL_CACHE_SECONDS = 30 * 24 * 3600
# Kept in the cache for a stored file that does not decode, so that it is not tried again on every visit.
NO_THUMBNAIL = b""
# Pictures are private: a browser may keep them, a shared cache may not.
CACHE_CONTROL = "private, max-age=3600"


def stored_picture(prediction, kind: str):
    """The prediction's uploaded picture ("upload") or the 28x28 picture the model saw ("input").

    Http404 for an unknown kind or a file that is not there (yet).
    """
    if kind not in PICTURE_KINDS:
        raise Http404
    stored = prediction.image if kind == "upload" else prediction.model_input
    if not stored or not stored.storage.exists(stored.name):
        raise Http404
    return stored


def picture_response(stored, *, thumbnail: bool = False) -> HttpResponse:
    """The stored picture as it was uploaded, or a small PNG of it for lists.

    Http404 for a thumbnail of a file that no longer decodes (a failed upload keeps its bytes for staff).
    """
    if thumbnail:
        png = cached_thumbnail_png(stored)
        if png == NO_THUMBNAIL:
            raise Http404
        response = HttpResponse(png, content_type="image/png")
    else:
        picture = stored.open("rb")
        content_type = content_type_of(picture)
        response = FileResponse(picture, content_type=content_type)
    response["Cache-Control"] = CACHE_CONTROL
    return response


def content_type_of(picture) -> str:
    """The type from the bytes, not from the name the picture was uploaded with; leaves `picture` at its start."""
    try:
        with Image.open(picture) as image:  # Pillow leaves a file it was handed open
            return Image.MIME.get(image.format or "", "application/octet-stream")
    except (OSError, Image.DecompressionBombError):
        return "application/octet-stream"
    finally:
        picture.seek(0)


def cached_thumbnail_png(stored) -> bytes:
    """The stored picture's thumbnail from the cache, made on first use; NO_THUMBNAIL if it does not decode.

    Stored names are generated and never reused, so the name is the key: a new picture is a new name.
    """
    key = "thumbnail:" + hashlib.sha256(f"{THUMBNAIL_SIZE}:{stored.name}".encode()).hexdigest()
    png = cache.get(key)
    if png is None:
        try:
            png = thumbnail_png(stored)
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
            png = NO_THUMBNAIL
        cache.set(key, png, THUMBNAIL_CACHE_SECONDS)
    return png


def thumbnail_png(stored) -> bytes:
    """A small upright PNG of a stored picture, so a list of uploads does not send the full photos.

    Within the upload's memory budget: a JPEG is decoded at a reduced scale, any other picture is shrunk as
    soon as it is decoded, with no copy of it, and only then turned upright. ValueError for a picture over
    the budget.
    """
    with stored.open("rb") as data, Image.open(data) as image:
        image.draft("RGB", (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))  # JPEG: decode at a reduced scale
        if decoded_bytes(image) > settings.UPLOAD_MAX_DECODED_BYTES:
            raise ValueError("the picture is over the decoding budget")
        small = _reduced_in_strips(image, THUMBNAIL_SIZE)
        small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        upright = ImageOps.exif_transpose(small)
        if upright.mode not in ("RGB", "RGBA", "L", "LA"):
            upright = upright.convert("RGBA")
        buffer = io.BytesIO()
        upright.save(buffer, format="PNG")
    return buffer.getvalue()


def _reduced_in_strips(image: Image.Image, size: int) -> Image.Image:
    """The picture shrunk by a whole factor to about twice `size`, as Image.thumbnail first does, but a strip
    at a time for a picture with transparency: Pillow averages those premultiplied by their alpha, through a
    premultiplied copy of the whole picture (another 196 MB for a 7000x7000 one)."""
    width, height = image.size
    factor = int(max(width, height) / size / 2)
    if factor <= 1 or image.mode not in ("RGBA", "LA"):
        return image  # Image.thumbnail shrinks these without a copy
    rows = factor * max(1, 2**22 // (width * 4 * factor))  # strips of about 4 MB
    reduced = Image.new(image.mode, (-(-width // factor), -(-height // factor)))
    for top in range(0, height, rows):
        reduced.paste(image.crop((0, top, width, min(top + rows, height))).reduce(factor), (0, top // factor))
    reduced.info = dict(image.info)  # the EXIF orientation, for turning it upright
    return reduced
