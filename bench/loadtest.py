"""`make loadtest`: issue 11's load against the production server (`manage.py serve`: gunicorn) and a real
2-process worker, on this machine only, bounded in users, duration and requests, stopping by itself.

    python bench/loadtest.py --users 200 --duration 60

Run in a code tree (the current directory): it makes a database of its own (LOADTEST_DATABASE_URL, dropped and
made again: never real data), one account per simulated user with 20 predictions each, starts the server on
127.0.0.1:PORT and a worker (broker keys under a prefix of their own), runs locust headless
(bench/locustfile.py) and prints one JSON line per request kind and one for all: requests/s, p50, p95, errors.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

TREE = Path.cwd()
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
HOST = "127.0.0.1"  # never anywhere else: the load generator shares the machine with what it loads
DATABASE_URL = os.environ.get("LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/digitsite_bench_load")
REDIS_URL = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def service_environment(work: Path, port: int, prefix: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "digitsite.settings",
        "DEBUG": "false",
        "SECRET_KEY": "loadtest-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": HOST,
        "HOST": HOST,
        "PORT": str(port),
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_BROKER_KEY_PREFIX": prefix,
        "CACHE_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": prefix + "cache",
        "MEDIA_ROOT": str(work / "media"),
        "STATIC_ROOT": str(work / "static"),
        "WEB_ACCESS_LOG": "",
        "READER_PRELOAD": "false",
        "PYTHONUNBUFFERED": "1",
    }


def prepare(environment: dict, accounts: int, work: Path) -> None:
    """Runs in a child process with the service's settings: a fresh migrated database, accounts and tokens."""
    code = f"""
import json, sys
sys.path.insert(0, {str(BENCH)!r})
from bench_data import fresh_database, picture
import django
django.setup()
fresh_database()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from recognizer.models import Prediction
call_command("migrate", verbosity=0)
User = get_user_model()
users = User.objects.bulk_create([User(username=f"load{{i}}", password="!") for i in range({accounts})])
tokens = Token.objects.bulk_create([Token(key=Token.generate_key(), user=u) for u in users])
now = timezone.now()
rows = [Prediction(user=u, created_at=now - timezone.timedelta(seconds=i), image=f"uploads/load/{{u.pk}}-{{i}}.jpg",
        original_name="meter.jpg", status="done", digits="4667", confidence=0.93, confidences=[0.99, 0.97, 0.98, 0.99],
        probabilities=[[0.1] * 10] * 4, boxes=[[10, 12, 40, 60]] * 4, image_width=900, image_height=400,
        model_version="2.0.0", finished_at=now) for u in users for i in range(20)]
Prediction.objects.bulk_create(rows, batch_size=2000)
ids = {{}}
for user_id, pk in Prediction.objects.values_list("user_id", "pk"):
    ids.setdefault(user_id, []).append(pk)
accounts = [{{"token": t.key, "prediction_ids": ids[t.user_id]}} for t in tokens]
json.dump(accounts, open({str(work / "accounts.json")!r}, "w"))
open({str(work / "one.jpg")!r}, "wb").write(picture())
"""
    subprocess.run([PYTHON, "-c", code], cwd=TREE, env={**environment, "CELERY_BROKER_URL": ""}, check=True)


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn's master and its processes), from /proc."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            pending += map(int, Path(f"/proc/{current}/task/{current}/children").read_text().split())
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def wait_for(url: str, *, seconds: int, ready=lambda body: True) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if ready(response.read()):
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def summary(entry: dict, seconds: float) -> dict:
    """One request kind from locust's final stats: requests/s over the run, p50 and p95 from its histogram."""
    times = sorted((int(ms), count) for ms, count in entry["response_times"].items())
    total = sum(count for _ms, count in times)

    def percentile(share: float) -> int:
        seen = 0
        for ms, count in times:
            seen += count
            if seen >= share * total:
                return ms
        return 0

    return {
        "requests": entry["num_requests"],
        "errors": entry["num_failures"],
        "requests_per_second": round(entry["num_requests"] / seconds, 1),
        "p50_ms": percentile(0.50),
        "p95_ms": percentile(0.95),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load, after all users started")
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--port", type=int, default=8765)
    arguments = parser.parse_args()
    if not 1 <= arguments.users <= 2000 or not 1 <= arguments.duration <= 900:
        raise SystemExit("at most 2000 users and 900 seconds")

    work = Path(tempfile.mkdtemp(prefix="digitsite-loadtest-"))
    prefix = f"digitsite-loadtest-{uuid.uuid4().hex[:8]}:"
    environment = service_environment(work, arguments.port, prefix)
    prepare(environment, arguments.users, work)
    base = f"http://{HOST}:{arguments.port}"
    server_log, worker_log = open(work / "server.log", "w"), open(work / "worker.log", "w")
    server = subprocess.Popen(
        [PYTHON, "manage.py", "serve"],
        cwd=TREE,
        env=environment,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "digitsite",
            "worker",
            "-Q",
            "inference",
            "-c",
            "2",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=TREE,
        env=environment,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(f"{base}/api/v1/health/", seconds=120, ready=lambda body: json.loads(body).get("ok") is True)
        warm_up(base, work)
        ramp = int(arguments.users / arguments.spawn_rate) + 1
        cpu_before = {"web": process_tree_cpu_seconds(server.pid), "worker": process_tree_cpu_seconds(worker.pid)}
        subprocess.run(
            [
                PYTHON,
                "-m",
                "locust",
                "-f",
                str(BENCH / "locustfile.py"),
                "--headless",
                "--only-summary",
                "-u",
                str(arguments.users),
                "-r",
                str(arguments.spawn_rate),
                "-t",
                f"{ramp + arguments.duration}s",
                "--stop-timeout",
                "15",
                "--host",
                base,
                "--json-file",
                str(work / "stats"),
                "--loglevel",
                "WARNING",
            ],
            cwd=TREE,
            env={
                **os.environ,
                "LOADTEST_ACCOUNTS": str(work / "accounts.json"),
                "LOADTEST_PICTURE": str(work / "one.jpg"),
                "LOADTEST_MAX_REQUESTS": str(arguments.max_requests),
            },
            check=False,
            timeout=ramp + arguments.duration + 120,
        )
        cpu = {
            "web": process_tree_cpu_seconds(server.pid) - cpu_before["web"],
            "worker": process_tree_cpu_seconds(worker.pid) - cpu_before["worker"],
        }
    finally:
        for process in (server, worker):
            os.killpg(process.pid, signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        delete_broker_keys(prefix)
    entries = json.loads((work / "stats.json").read_text())
    seconds = max(e["last_request_timestamp"] for e in entries) - min(e["start_time"] for e in entries)
    kinds = {entry["name"]: summary(entry, seconds) for entry in entries}
    everything = {"response_times": {}, "num_requests": 0, "num_failures": 0}
    for entry in entries:
        everything["num_requests"] += entry["num_requests"]
        everything["num_failures"] += entry["num_failures"]
        for ms, count in entry["response_times"].items():
            everything["response_times"][ms] = everything["response_times"].get(ms, 0) + count
    print(
        json.dumps(
            {
                "tree": str(TREE),
                "users": arguments.users,
                "seconds": round(seconds, 1),
                "all": summary(everything, seconds),
                # Where the machine's CPU went: the web processes' per request, the worker's per upload.
                "web_cpu_ms_per_request": round(cpu["web"] * 1000 / max(everything["num_requests"], 1), 2),
                "worker_cpu_seconds": round(cpu["worker"], 1),
                **kinds,
            }
        )
    )


def warm_up(base: str, work: Path) -> None:
    """Each worker process loads TensorFlow on its first picture: a few uploads first, outside the figures."""
    account = json.loads((work / "accounts.json").read_text())[0]
    body, content_type = multipart((work / "one.jpg").read_bytes())
    for _ in range(6):
        request = urllib.request.Request(
            f"{base}/api/v1/predictions/?wait=30",
            data=body,
            method="POST",
            headers={"Authorization": f"Token {account['token']}", "Content-Type": content_type},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()


def multipart(picture: bytes) -> tuple[bytes, str]:
    boundary = "digitsite-loadtest-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="one.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    )
    return head.encode() + picture + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def delete_broker_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


if __name__ == "__main__":
    main()
