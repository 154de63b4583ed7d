"""Digits drawn the way the draw page's canvas sends them: black strokes on a white PNG."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

CANVAS = 560
STROKE = CANVAS // 16  # the width draw.js uses

STROKES = {
    1: [[(280, 100), (280, 460)]],
    4: [[(330, 460), (330, 100), (150, 330), (420, 330)]],
    7: [[(150, 120), (420, 120), (250, 460)]],
}


def drawing_png(digit: int) -> bytes:
    canvas = Image.new("RGB", (CANVAS, CANVAS), "white")
    pen = ImageDraw.Draw(canvas)
    for stroke in STROKES[digit]:
        pen.line(stroke, fill="black", width=STROKE, joint="curve")
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()
