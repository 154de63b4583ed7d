"""`python -m mlcore bench`: how long loading, preprocessing and inference take on this machine."""

from __future__ import annotations

import io
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from PIL import Image

from mlcore.data import load_mnist_arrays

SINGLE_RUNS = 300
BATCH_SIZE = 64
BATCH_RUNS = 30
PREPROCESS_RUNS = 100


def _percentiles(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3)}


def _timed(function, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return timings


def _page_jpeg(page: np.ndarray, quality: int = 90) -> bytes:
    """A page's brightness (0..1, grey) as a colour JPEG, as a phone saves it."""
    buffer = io.BytesIO()
    Image.fromarray(np.clip(page * 255, 0, 255).astype(np.uint8)).convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def photo_jpeg(digit_pixels: np.ndarray, size: int = 1000) -> bytes:
    """A 1000x1000 JPEG of a digit in dark ink on grey, unevenly lit paper: a typical phone upload."""
    ink = np.asarray(Image.fromarray(digit_pixels).resize((size // 3, size // 3), Image.Resampling.BICUBIC)) / 255.0
    page = np.full((size, size), 0.85) - np.linspace(0, 0.2, size)[None, :]
    top = size // 3
    page[top : top + ink.shape[0], top : top + ink.shape[1]] *= 1 - 0.85 * ink
    return _page_jpeg(page)


def number_photo_jpeg(digits: np.ndarray, size: tuple[int, int] = (1600, 1200), gap: str = "tight") -> bytes:
    """A phone photo (1600x1200 JPEG) of a number written in ordinary pen on unevenly lit paper."""
    from mlcore.synthesis import compose_number

    width, height = size
    ink, _ = compose_number(list(digits), 150, "ordinary", gap, np.random.default_rng(6))
    page = np.full((height, width), 0.85) - np.linspace(0, 0.2, width)[None, :]
    top, left = (height - ink.shape[0]) // 2, (width - ink.shape[1]) // 2
    page[top : top + ink.shape[0], left : left + ink.shape[1]] *= 1 - 0.85 * ink
    return _page_jpeg(page)


def blank_phone_jpeg(size: tuple[int, int] = (4000, 3000)) -> bytes:
    """A 12-megapixel phone photo (JPEG) of a blank, unevenly lit page with the sensor's grain: read as no
    digit, it takes every further look the engine has (the worst ordinary upload for time)."""
    width, height = size
    rng = np.random.default_rng(3)
    light = 0.8 - 0.15 * np.linspace(0, 1, width)[None, :] - 0.1 * np.linspace(0, 1, height)[:, None]
    page = light + rng.normal(0, 0.02, (height, width))
    return _page_jpeg(page, quality=92)


def run_benchmarks(model_path: Path, json_output: bool = False) -> dict:
    from mlcore.inference import DigitClassifier
    from mlcore.preprocessing import decode_image
    from mlcore.segmentation import find_number

    test = load_mnist_arrays()[1]
    images = test.images

    started = time.perf_counter()
    import tensorflow  # noqa: F401  (timed separately: the import is most of a cold start)

    import_seconds = time.perf_counter() - started
    started = time.perf_counter()
    classifier = DigitClassifier.load(model_path)
    load_seconds = time.perf_counter() - started

    upload = photo_jpeg(images[0])
    time.sleep(1)  # let TensorFlow's thread pool go idle after loading, so it does not steal a core
    _timed(lambda: find_number(decode_image(upload)), 10)  # warm-up
    preprocess = _timed(lambda: find_number(decode_image(upload)), PREPROCESS_RUNS)

    single = images[:1]
    _timed(lambda: classifier.probabilities(single), 20)  # warm-up
    single_timings = _timed(lambda: classifier.probabilities(single), SINGLE_RUNS)

    batch = images[:BATCH_SIZE]
    _timed(lambda: classifier.probabilities(batch), 5)
    batch_timings = _timed(lambda: classifier.probabilities(batch), BATCH_RUNS)

    bulk = images[:2048]
    started = time.perf_counter()
    classifier.probabilities(bulk)
    bulk_seconds = time.perf_counter() - started

    end_to_end = _timed(lambda: classifier.read_upload(upload), 50)
    number = number_photo_jpeg(images[10:16])
    number_read = classifier.read_upload(number).digits
    number_timings = _timed(lambda: classifier.read_upload(number), 50)
    # The same digits touching: one cluster of ink, read by the cluster reader as well.
    touching = number_photo_jpeg(images[10:16], gap="touching")
    touching_read = classifier.read_upload(touching).digits
    touching_timings = _timed(lambda: classifier.read_upload(touching), 50)
    blank = blank_phone_jpeg()
    blank_read = classifier.read_upload(blank).digits
    blank_timings = _timed(lambda: classifier.read_upload(blank), 20)

    figures = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "tensorflow_import_s": round(import_seconds, 2),
        "model_load_s": round(load_seconds, 2),
        "preprocess_1000x1000_jpeg": _percentiles(preprocess),
        "inference_single_image": _percentiles(single_timings),
        f"inference_batch_{BATCH_SIZE}": _percentiles(batch_timings),
        f"batch_{BATCH_SIZE}_images_per_second": round(BATCH_SIZE / float(np.median(batch_timings)), 0),
        "bulk_2048_images_per_second": round(len(bulk) / bulk_seconds, 0),
        "upload_end_to_end": _percentiles(end_to_end),
        "number_6_digits_1600x1200_end_to_end": _percentiles(number_timings),
        "number_read": number_read,
        "touching_6_digits_1600x1200_end_to_end": _percentiles(touching_timings),
        "touching_read": touching_read,
        "number_written": "".join(str(d) for d in test.labels[10:16]),
        "blank_4000x3000_phone_jpeg_end_to_end": _percentiles(blank_timings),
        "blank_read": blank_read,
    }
    if json_output:
        print(json.dumps(figures))
    else:
        print(f"Machine: {figures['machine']}")
        print(f"TensorFlow import:                  {import_seconds:.2f} s")
        print(f"Model load (once per process):      {load_seconds:.2f} s")
        for name, key in (
            ("Preprocess 1000x1000 JPEG upload", "preprocess_1000x1000_jpeg"),
            ("Model, single image", "inference_single_image"),
            (f"Model, batch of {BATCH_SIZE}", f"inference_batch_{BATCH_SIZE}"),
            ("Upload end to end (decode..digit)", "upload_end_to_end"),
            ("6-digit number, 1600x1200 JPEG", "number_6_digits_1600x1200_end_to_end"),
            ("The same, its digits touching", "touching_6_digits_1600x1200_end_to_end"),
            ("Blank 4000x3000 phone JPEG", "blank_4000x3000_phone_jpeg_end_to_end"),
        ):
            f = figures[key]
            print(f"{name + ':':<36}p50 {f['p50_ms']:.2f} ms   p95 {f['p95_ms']:.2f} ms")
        batched = figures[f"batch_{BATCH_SIZE}_images_per_second"]
        print(f"Throughput, batches of {BATCH_SIZE}:          {batched:.0f} images/s")
        print(f"Throughput, 2048 images in one call: {figures['bulk_2048_images_per_second']:.0f} images/s")
        print(f"The number written {figures['number_written']}, read {figures['number_read']!r}")
        print(f"The same touching, read {figures['touching_read']!r}")
        print(f"The blank page, read {figures['blank_read']!r} (no digit: '')")
    return figures
