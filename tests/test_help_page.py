"""The help page shows good and bad example pictures made by the project, with a caption in each language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = {"en": re.compile(r"[A-Za-z]"), "ta": re.compile(r"[\u0B80-\u0BFF]"), "hi": re.compile(r"[\u0900-\u097F]")}
EXAMPLE = re.compile(
    r'<figure class="help-example help-example-(good|bad)">\s*<img src="/static/([^"]+)"[^>]* alt="([^"]+)">'
    r"\s*<figcaption>(.*?)</figcaption>",
    re.S,
)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ta", "hi"])
def test_the_help_page_shows_good_and_bad_example_pictures_with_captions(client, language):
    client.cookies["django_language"] = language
    page = client.get(reverse("help")).content.decode()
    examples = EXAMPLE.findall(page)
    assert [kind for kind, *_ in examples].count("good") == 2
    assert [kind for kind, *_ in examples].count("bad") == 4  # framing, light, a thin pen, several numbers
    for _kind, path, alt, caption in examples:
        picture = ROOT / "static" / path
        assert picture.is_file() and picture.stat().st_size < 40_000, path  # small, committed, made by the script
        with Image.open(picture) as image:
            assert image.format == "PNG" and image.size == (240, 160)
        caption = re.sub(r"<[^>]+>", "", caption)
        assert SCRIPTS[language].search(caption) and SCRIPTS[language].search(alt), (language, caption, alt)


def test_the_script_that_draws_the_examples_is_committed_beside_them():
    script = (ROOT / "fixtures" / "make_help_pictures.py").read_text()
    for name in ("good-number", "good-digit", "bad-framing", "bad-light", "bad-thin-pen", "bad-two-lines"):
        assert f'"{name}.png"' in script
        assert (ROOT / "static" / "recognizer" / "help" / f"{name}.png").is_file()
