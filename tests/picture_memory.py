"""What a memory bomb costs: a 7000x7000 PNG with transparency that compresses to about 230 KB.

Each step runs in a fresh process and reports its peak resident memory above what the process held after
its imports (Linux's VmHWM, reset before the step), its CPU time, and the peak of numpy's and Python's own
allocations (tracemalloc, which sees every numpy array but not Pillow's images: a float copy of the picture
would show there).

    python -m tests.picture_memory             # the table in README "Measured figures"
    python -m tests.picture_memory upload FILE # one step, as JSON

Steps: `upload` (the web process's check, services.upload_check), `decode` (the worker's decode_image),
`read` (decode_image and find_number: everything the worker does before the model), `thumbnail` (an admin
or history thumbnail, made the first time). tests/test_abuse_inputs.py holds each to a budget.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("upload", "decode", "read", "thumbnail")
BOMB_SIZE = 7000


def memory_bomb_png(size: int = BOMB_SIZE) -> bytes:
    """A transparent size x size RGBA PNG with one thick dark stroke: tiny as a file, 4 bytes a pixel decoded."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    scale = size / 7000
    stroke = [(1500 * scale, 1200 * scale), (5500 * scale, 1200 * scale), (2800 * scale, 6000 * scale)]
    ImageDraw.Draw(picture).line(stroke, fill=(0, 0, 0, 255), width=round(500 * scale), joint="curve")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def _status_mb(field: str) -> float:
    """VmHWM (the peak resident memory) or VmRSS of this process, from Linux's /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def _reset_peak_mb() -> float:
    """Sets the peak to the memory in use now and returns it. (ru_maxrss cannot be reset, and a child
    started by a big parent inherits the parent's peak from the fork.)"""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def _run_step(step: str, path: str) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digitsite.settings")
    import django

    django.setup()
    import numpy  # noqa: F401  (imported before the baseline, as in a running process)
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mlcore.preprocessing import decode_image
    from mlcore.segmentation import find_number
    from recognizer import pictures, services

    data = Path(path).read_bytes()

    class Stored:  # a stored upload, as pictures.thumbnail_png opens it
        name = path

        def open(self, mode="rb"):
            return open(path, mode)

    steps = {
        "upload": lambda: services.upload_check(upload=SimpleUploadedFile("bomb.png", data)),
        "decode": lambda: decode_image(data),
        "read": lambda: find_number(decode_image(data)),
        "thumbnail": lambda: pictures.thumbnail_png(Stored()),
    }
    baseline = _reset_peak_mb()
    tracemalloc.start()
    cpu = time.process_time()
    steps[step]()
    cpu = time.process_time() - cpu
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "step": step,
        "peak_mb": round(_status_mb("VmHWM") - baseline),
        "cpu_s": round(cpu, 2),
        "traced_peak_mb": round(traced_peak / 1e6, 1),
    }


def measure(step: str, path: str | Path) -> dict:
    """One step on the picture at `path`, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "digitsite.settings"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.picture_memory", step, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    if len(argv) == 2:
        print(json.dumps(_run_step(*argv)))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bomb.png"
        path.write_bytes(memory_bomb_png())
        print(f"{BOMB_SIZE}x{BOMB_SIZE} RGBA PNG, {path.stat().st_size / 1000:.0f} KB")
        print("| step | peak memory above the process's | CPU | numpy and Python peak |")
        print("| --- | ---: | ---: | ---: |")
        for step in STEPS:
            result = measure(step, path)
            print(f"| {step} | {result['peak_mb']} MB | {result['cpu_s']} s | {result['traced_peak_mb']} MB |")


if __name__ == "__main__":
    main(sys.argv[1:])
