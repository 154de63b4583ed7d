"""What the benchmarks share: a database of their own made afresh, and a picture to read."""

from __future__ import annotations

import sys


def fresh_database() -> None:
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    if not database["NAME"].startswith("digitsite_bench"):
        sys.exit("DATABASE_URL must name a database called digitsite_bench...: it is dropped")
    with psycopg.connect(
        host=database["HOST"], port=database["PORT"] or 5432, user=database["USER"], dbname="postgres", autocommit=True
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database["NAME"]}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database["NAME"]}"')


def picture() -> bytes:
    import io

    import numpy as np
    from PIL import Image, ImageDraw

    page = Image.new("L", (400, 400), 236)
    ImageDraw.Draw(page).line([(200, 110), (200, 290)], fill=30, width=16)  # a "1" in pen
    noisy = np.asarray(page, dtype=np.int16) + np.random.default_rng(1).integers(-6, 7, (400, 400))
    buffer = io.BytesIO()
    Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()
