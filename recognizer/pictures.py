"""Serving stored pictures (uploads and 28x28 model inputs) to the one who may see them.

The website, the API and the admin each check who may see a picture; this module only turns the stored
file into a response. media/ is never served publicly.
"""

from __future__ import annotations

import io

from django.http import FileResponse, Http404, HttpResponse
from PIL import Image, ImageOps

PICTURE_KINDS = ("upload", "input")
THUMBNAIL_SIZE = 96
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
        try:
            response = HttpResponse(thumbnail_png(stored), content_type="image/png")
        except (OSError, Image.DecompressionBombError):
            raise Http404 from None
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


def thumbnail_png(stored) -> bytes:
    """A small upright PNG of a stored picture, so a list of uploads does not send the full photos."""
    with stored.open("rb") as data, Image.open(data) as image:
        image.draft("RGB", (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))  # JPEG: decode at a reduced scale
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        if upright.mode not in ("RGB", "RGBA", "L", "LA"):
            upright = upright.convert("RGBA")
        buffer = io.BytesIO()
        upright.save(buffer, format="PNG")
    return buffer.getvalue()
