"""Times the requests users make most (API list of 20, API detail, the result page's status.json) in-process
with Django's test client, on a database of its own, for the code tree it is run in.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/digitsite_bench python bench/web_requests.py [--profile list]

`make bench-web` runs it on this tree and on BASE's (a `git worktree`) in one go, side by side. The database
named in DATABASE_URL is dropped and made again (migrated) each run: never point it at real data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

TREE = Path.cwd()
sys.path.insert(0, str(TREE))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digitsite.settings")
os.environ["CELERY_BROKER_URL"] = ""  # nothing is queued here
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("READER_PRELOAD", "false")
os.environ.setdefault("THROTTLE_USER", "1000000/minute")

PREDICTIONS = 200


def fill(user) -> list[int]:
    from django.utils import timezone

    from recognizer.models import Prediction

    now = timezone.now()
    rows = [
        Prediction(
            user=user,
            created_at=now - timezone.timedelta(seconds=i),
            image=f"uploads/bench/{i}.png",
            original_name=f"meter-{i}.jpg",
            status="done",
            digits="4667",
            confidence=0.93,
            confidences=[0.99, 0.97, 0.98, 0.99],
            probabilities=[[0.1] * 10] * 4,
            boxes=[[10, 12, 40, 60], [50, 12, 80, 60], [90, 12, 120, 60], [130, 12, 160, 60]],
            image_width=900,
            image_height=400,
            model_version="2.0.0",
            model_input=f"model_inputs/bench/{i}.png",
            finished_at=now,
        )
        for i in range(PREDICTIONS)
    ]
    return [p.pk for p in Prediction.objects.bulk_create(rows)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="of each kind")
    parser.add_argument("--profile", choices=["list", "detail", "status"], help="cProfile that kind instead")
    arguments = parser.parse_args()

    import django

    django.setup()
    from bench_data import fresh_database

    fresh_database()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from rest_framework.authtoken.models import Token

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    ids = fill(user)
    token = Token.objects.create(user=user).key
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    page = Client()
    page.force_login(user)
    kinds = {
        "list": lambda i: api.get("/api/v1/predictions/"),
        "detail": lambda i: api.get(f"/api/v1/predictions/{ids[i % len(ids)]}/"),
        "status": lambda i: page.get(f"/predictions/{ids[i % len(ids)]}/status.json"),
    }
    for kind, ask in kinds.items():  # warm: imports, URL resolvers, the first connection
        assert ask(0).status_code == 200, (kind, ask(0).content[:300])
    if arguments.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(arguments.requests):
            kinds[arguments.profile](i)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(45)
        return
    results = {}
    for kind, ask in kinds.items():
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(arguments.requests):
            ask(i)
        results[kind] = {
            "cpu_ms": round((time.process_time() - cpu) * 1000 / arguments.requests, 2),
            "wall_ms": round((time.perf_counter() - wall) * 1000 / arguments.requests, 2),
        }
    print(json.dumps({"tree": str(TREE), "requests": arguments.requests, **results}))


if __name__ == "__main__":
    main()
