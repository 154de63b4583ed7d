"""A developer's first `make run`: the reader loads in the background as the server starts (no broker), the
upload page says when a picture waits for it, the log shows each line once and no TensorFlow notices, and
someone else's prediction answers the site's own 404 page even with DEBUG on.

The start-up is checked in a separate Python process that imports digitsite/wsgi.py as `runserver` does,
on its own SQLite database: the test process itself never loads the reader in the background.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from recognizer.services import reader_warmup
from tests.prediction_rows import finished_prediction

ROOT = Path(__file__).resolve().parent.parent

STARTS_THE_WEB_PROCESS = """
import logging, threading
import digitsite.wsgi  # what runserver and gunicorn load
threads = [t for t in threading.enumerate() if t.name == "reader-preload"]
print("preload threads:", len(threads))
for thread in threads:
    thread.join(300)
from recognizer.services.reader_warmup import reader_loaded_in_this_process
print("reader loaded:", reader_loaded_in_this_process())
logging.getLogger("django.request").warning("Not Found: /a-page-nobody-has/")
"""


def web_process(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "TF_CPP_MIN_LOG_LEVEL")},
        "DJANGO_SETTINGS_MODULE": "digitsite.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DEBUG": "true",
        **env,
    }
    if not (tmp_path / "dev.sqlite3").exists():
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=environment, check=True, timeout=300
        )
    return subprocess.run(
        [sys.executable, "-c", STARTS_THE_WEB_PROCESS],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=400,
    )


def test_without_a_broker_the_web_process_loads_the_reader_as_it_starts_and_logs_each_line_once(tmp_path):
    started = web_process(tmp_path)
    assert started.returncode == 0, started.stderr
    assert "preload threads: 1" in started.stdout
    assert "reader loaded: True" in started.stdout
    log = started.stderr
    assert log.count("The reader is loaded (model ") == 1, log
    # Django's own loggers used to print every line twice (their handler and the root's).
    assert log.count("Not Found: /a-page-nobody-has/") == 1, log
    # TensorFlow's start-up notices no longer bury the server's address.
    for notice in ("oneDNN custom operations", "absl::InitializeLog", "cpu_feature_guard"):
        assert notice not in log, log


def test_with_a_broker_the_web_process_never_loads_the_reader(tmp_path):
    started = web_process(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:6379/10")
    assert started.returncode == 0, started.stderr
    assert "preload threads: 0" in started.stdout
    assert "reader loaded: False" in started.stdout


@pytest.mark.django_db
def test_a_picture_sent_while_the_reader_is_starting_says_it_waits_for_the_reader(alice_client, monkeypatch):
    note = "Waiting for the reader: it is still starting on this server."
    monkeypatch.setattr(reader_warmup, "reader_loaded_in_this_process", lambda: False)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        for page in ("upload", "draw"):
            shown = alice_client.get(reverse(page)).content.decode()
            assert note in shown and "data-reader-starting hidden" in shown, page  # shown once a picture is sent
    monkeypatch.setattr(reader_warmup, "reader_loaded_in_this_process", lambda: True)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        assert note not in alice_client.get(reverse("upload")).content.decode()
    monkeypatch.setattr(reader_warmup, "reader_loaded_in_this_process", lambda: False)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):  # a worker reads the pictures: nothing to wait for here
        assert note not in alice_client.get(reverse("upload")).content.decode()


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_in_development_someone_elses_prediction_answers_the_sites_own_404_page(alice_client, bob):
    bobs = finished_prediction(bob, digits="12")
    for url in (
        reverse("prediction_detail", args=[bobs.pk]),
        reverse("prediction_picture", args=[bobs.pk, "upload"]),
        reverse("prediction_detail", args=[bobs.pk + 1000]),
    ):
        response = alice_client.get(url)
        page = response.content.decode()
        assert response.status_code == 404, url
        assert "There is nothing here, or it is not yours to see." in page, url
        assert "URLconf" not in page and "predictions/&lt;int:pk&gt;" not in page, url  # Django's technical page
