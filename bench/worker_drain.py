"""Drains a queue of N uploads through a real 2-process Celery worker and reports pictures per second, for the
code tree it is run in (`make bench-worker` runs it on this tree and on BENCH_BASE's, side by side).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/digitsite_bench BENCH_BROKER_URL=redis://127.0.0.1:6379/9 \\
        python bench/worker_drain.py --uploads 500

The rows and their pictures (a photo of one digit, 400x400 JPEG) are made first, then all are queued at once and
timed from the first message until the last row is finished. The database is dropped and made again; the broker
keys live under a prefix of their own and are deleted after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TREE = Path.cwd()
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(TREE))
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/9")
PREFIX = f"digitsite-bench-{uuid.uuid4().hex[:8]}:"
MEDIA = Path(tempfile.mkdtemp(prefix="digitsite-bench-media-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="digitsite.settings",
    CELERY_BROKER_URL=BROKER_URL,
    CELERY_BROKER_KEY_PREFIX=PREFIX,
    MEDIA_ROOT=str(MEDIA),
    READER_PRELOAD="false",
)


def worker_cpu_seconds(main_pid: int) -> float:
    """CPU seconds used so far by the worker: its main process and its pool processes (from /proc)."""
    children = Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split()
    total = 0
    for pid in [main_pid, *map(int, children)]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=500)
    parser.add_argument("--processes", type=int, default=2)
    arguments = parser.parse_args()

    import django

    django.setup()
    from bench_data import fresh_database, picture

    fresh_database()
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.utils import timezone

    from digitsite.celery import app
    from recognizer.models import Prediction
    from recognizer.tasks import run_prediction

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench")
    data = picture()
    rows = []
    for _ in range(arguments.uploads + 4):
        now = timezone.now()  # counted as queued, as an upload is (the recovery sweep leaves it to us)
        prediction = Prediction(user=user, created_at=now, queued_at=now, original_name="one.jpg")
        prediction.image.save("one.jpg", ContentFile(data), save=False)
        rows.append(prediction)
    ids = [p.pk for p in Prediction.objects.bulk_create(rows)]
    warm, timed = ids[:4], ids[4:]

    log = open(MEDIA / "worker.log", "w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "digitsite",
            "worker",
            "-Q",
            "inference",
            "-c",
            str(arguments.processes),
            "-l",
            "warning",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=TREE,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for pk in warm:  # each process loads TensorFlow and the model on its first picture
            run_prediction.apply_async(args=[pk])
        deadline = time.monotonic() + 180
        while Prediction.objects.filter(pk__in=warm, status__in=["done", "failed"]).count() < len(warm):
            if worker.poll() is not None or time.monotonic() > deadline:
                sys.exit("the worker did not start: " + (MEDIA / "worker.log").read_text()[-2000:])
            time.sleep(0.2)
        cpu_before = worker_cpu_seconds(worker.pid)
        started = time.perf_counter()
        for pk in timed:
            run_prediction.apply_async(args=[pk])
        queued = time.perf_counter() - started
        while Prediction.objects.filter(pk__in=timed, status__in=["done", "failed"]).count() < len(timed):
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        cpu = worker_cpu_seconds(worker.pid) - cpu_before
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        broker = app.connection().default_channel.client
        for key in broker.scan_iter(f"{PREFIX}*"):
            broker.delete(key)
    failed = Prediction.objects.filter(pk__in=timed, status="failed").count()
    print(
        json.dumps(
            {
                "tree": str(TREE),
                "uploads": len(timed),
                "processes": arguments.processes,
                "failed": failed,
                "seconds": round(seconds, 2),
                "queueing_seconds": round(queued, 2),
                "pictures_per_second": round(len(timed) / seconds, 1),
                # Less at the mercy of other work on the machine than the rate: the worker's CPU per picture.
                "worker_cpu_ms_per_picture": round(cpu * 1000 / len(timed), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
