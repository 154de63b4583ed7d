"""The model lifecycle: a version trained from staff corrections, judged, promoted and rolled back while a real
worker keeps reading uploads, and the failures around it (a worse candidate, a killed or cancelled run)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from recognizer import services, worker_watch
from recognizer.models import Prediction
from recognizer.registry import ModelVersion, TrainingJob
from recognizer.services import model_versions
from tests.conftest import celery_worker
from tests.images import paper_photo
from tests.prediction_rows import finished_prediction

# Small settings, so that a run takes seconds: one epoch on a little MNIST replay, scored on a few pictures.
QUICK_SCORES = {"mnist_images": 400, "single_pictures": 10, "number_pictures": 5}
# A learning rate this small leaves the model as it was: the candidate reads as well as the active version,
# so the promotion gate lets it through however the pictures fall.
GENTLE = {"retrain": {"mnist_replay": 300, "corrections_repeat": 1, "learning_rate": 1e-9}, "score": QUICK_SCORES}
# Long enough to be caught running (a killed or cancelled worker), never meant to finish.
LONG = {"retrain": {"mnist_replay": 20000}, "score": QUICK_SCORES}


def label_mistakes(user, count: int, *, labels=None) -> list[Prediction]:
    """Finished predictions the model got wrong (it read 1), each labelled by its owner with the digit shown."""
    labels = labels if labels is not None else [d % 10 for d in range(2, count + 2)]
    return [finished_prediction(user, digits="1", true_digits=str(label)) for label in labels]


def wait_until(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f} s"
        time.sleep(0.5)
    return result


def read_by_worker(user) -> Prediction:
    """Uploads a photo of a 4 and waits for the worker's answer."""
    upload = SimpleUploadedFile("four.jpg", paper_photo(4), content_type="image/jpeg")
    prediction = services.prediction_create(user=user, upload=upload)
    return wait_until(
        lambda: Prediction.objects.filter(pk=prediction.pk, status=Prediction.Status.DONE).first(),
        seconds=120,
        what="the worker's answer",
    )


def finished_job(job: TrainingJob, seconds: float = 300) -> TrainingJob:
    return wait_until(
        lambda: TrainingJob.objects.filter(pk=job.pk).exclude(state__in=["queued", "running"]).first(),
        seconds=seconds,
        what=f"training job {job.pk}",
    )


def running_job(job: TrainingJob) -> TrainingJob:
    """The job once it reports progress from inside training (its worker is busy with it)."""
    return wait_until(
        lambda: TrainingJob.objects.filter(pk=job.pk, state="running", progress__has_key="batch").first(),
        seconds=180,
        what=f"training job {job.pk} under way",
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_version_trained_from_corrections_is_promoted_then_rolled_back_while_the_worker_reads(
    celery_worker_process, alice, staff, tmp_path, client
):
    label_mistakes(alice, 20)
    original = model_versions.active_model_version()
    assert read_by_worker(alice).model_version == original.version

    with celery_worker(queues="training", log_path=tmp_path / "training.log", env={"WORKER_ROLE": "training"}):
        job = finished_job(model_versions.training_job_start(user=staff, epochs=1, options=GENTLE))

    assert job.state == TrainingJob.State.SUCCEEDED, job.reason
    candidate = job.candidate
    assert candidate.state == ModelVersion.State.CANDIDATE
    assert candidate.version == f"{original.version}+ft{job.pk}"
    # Judged side by side with the active version, on the four sets, the held-out pictures never trained on.
    evaluation = candidate.evaluation
    assert evaluation["active_version"] == original.version
    for scores in (evaluation["candidate"], evaluation["active"]):
        assert set(scores) == {"mnist_test", "realistic_singles", "realistic_numbers", "user_holdout"}
        assert len(scores["mnist_test"]["per_digit"]) == 10
    held_out = set(candidate.card["data"]["held_out_predictions"])
    trained_on = set(candidate.card["data"]["correction_predictions"])
    assert held_out and trained_on and not held_out & trained_on
    assert evaluation["candidate"]["user_holdout"]["count"] == len(held_out)
    assert evaluation["refusals"] == [] and model_versions.model_version_refusal(candidate) is None

    model_versions.model_version_promote(version=candidate, user=staff)
    assert read_by_worker(alice).model_version == candidate.version  # the same worker process, no restart
    client.force_login(alice)
    assert client.get("/api/v1/model/").json()["version"] == candidate.version

    model_versions.model_version_rollback(user=staff)
    assert read_by_worker(alice).model_version == original.version
    assert model_versions.active_model_version() == original


@pytest.mark.django_db
def test_the_gate_refuses_a_candidate_trained_on_shuffled_labels(alice, staff, django_capture_on_commit_callbacks):
    rng = np.random.default_rng(5)
    label_mistakes(alice, 40, labels=list(rng.integers(0, 10, 40)))  # labels that mean nothing
    harmful = {
        "retrain": {"mnist_replay": 0, "corrections_repeat": 20, "learning_rate": 0.05},
        "score": QUICK_SCORES,
    }
    original = model_versions.active_model_version()
    with django_capture_on_commit_callbacks(execute=True):  # no broker: the task runs here, as in `make run`
        job = model_versions.training_job_start(user=staff, epochs=2, options=harmful)
    job.refresh_from_db()
    assert job.state == TrainingJob.State.SUCCEEDED, job.reason
    candidate = job.candidate
    assert [refusal["score"] for refusal in candidate.evaluation["refusals"]][:1] == ["mnist_test"]
    with translation.override("en"):
        assert "MNIST test accuracy" in model_versions.model_version_refusal(candidate)

    with pytest.raises(model_versions.PromotionRefused, match="MNIST"):
        model_versions.model_version_promote(version=candidate, user=staff)
    with pytest.raises(model_versions.PromotionRefused):  # forcing needs a reason
        model_versions.model_version_promote(version=candidate, user=staff, force=True)
    assert model_versions.active_model_version() == original

    model_versions.model_version_promote(version=candidate, user=staff, force=True, note="testing the gate")
    candidate.refresh_from_db()
    assert candidate.state == ModelVersion.State.ACTIVE and candidate.forced_note == "testing the gate"
    assert candidate.activated_by == staff


@pytest.mark.django_db
def test_training_without_corrections_fails_with_a_reason(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), translation.override("hi"):  # a Hindi reader's request
        job = model_versions.training_job_start(user=staff, epochs=1, options=GENTLE)
    job.refresh_from_db()
    assert job.state == TrainingJob.State.FAILED
    assert "no labelled pictures" in job.reason  # stored in the site's language, not the requester's
    assert job.candidate is None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_running_job_cancelled_stops_and_keeps_nothing(celery_worker_process, alice, staff, tmp_path):
    label_mistakes(alice, 10)
    with celery_worker(queues="training", log_path=tmp_path / "training.log", env={"WORKER_ROLE": "training"}):
        job = running_job(model_versions.training_job_start(user=staff, epochs=50, options=LONG))
        model_versions.training_job_cancel(job=job)
        job = finished_job(job, seconds=60)
    assert job.state == TrainingJob.State.CANCELLED
    assert job.candidate is None and ModelVersion.objects.count() == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_training_job_killed_mid_run_is_marked_failed_and_the_active_model_keeps_serving(
    celery_worker_process, alice, staff, tmp_path
):
    label_mistakes(alice, 10)
    original = model_versions.active_model_version()
    with celery_worker(queues="training", log_path=tmp_path / "training.log", env={"WORKER_ROLE": "training"}) as w:
        job = running_job(model_versions.training_job_start(user=staff, epochs=50, options=LONG))
        os.killpg(w.pid, signal.SIGKILL)  # the worker and its child, mid-epoch
        w.wait(timeout=30)
    assert TrainingJob.objects.get(pk=job.pk).state == TrainingJob.State.RUNNING  # nobody knows yet

    # The recovery sweep that inference workers run (worker_watch) marks it failed once it has been silent
    # for TRAINING_STALE_SECONDS (here shortened).
    time.sleep(2)
    with override_settings(TRAINING_STALE_SECONDS=1):
        worker_watch.sweep()
    job.refresh_from_db()

    assert job.state == TrainingJob.State.FAILED
    assert "stopped during the run" in job.reason
    assert model_versions.active_model_version() == original
    assert read_by_worker(alice).model_version == original.version


@pytest.mark.django_db
def test_staff_force_a_refused_candidate_with_a_reason_and_roll_back_in_the_admin(client, staff):
    original = model_versions.active_model_version()
    refused = ModelVersion.objects.create(
        version="9.9.9",
        file="models/9.9.9/digit_cnn.keras",
        evaluation={
            "candidate": {"mnist_test": {"accuracy": 0.5, "count": 400, "per_digit": [0.5] * 10}},
            "active": {"mnist_test": {"accuracy": 0.99, "count": 400, "per_digit": [0.99] * 10}},
            "active_version": original.version,
            "refusals": [{"score": "mnist_test", "candidate": 0.5, "active": 0.99}],
        },
    )
    client.force_login(staff)

    listed = client.get(reverse("admin:recognizer_modelversion_changelist"))
    assert original.version in listed.content.decode() and "9.9.9" in listed.content.decode()
    page = client.get(reverse("admin:recognizer_promote", args=[refused.pk]))
    assert "The evaluation refuses it" in page.content.decode()

    client.post(reverse("admin:recognizer_promote", args=[refused.pk]), {"note": ""})
    assert model_versions.active_model_version() == original  # not forced: refused
    client.post(reverse("admin:recognizer_promote", args=[refused.pk]), {"force": "on", "note": "demo day"})
    assert model_versions.active_model_version() == refused
    assert LogEntry.objects.filter(object_id=str(refused.pk), change_message__contains="demo day").exists()

    client.post(reverse("admin:recognizer_rollback"))
    assert model_versions.active_model_version() == original


@pytest.mark.django_db
def test_staff_start_and_cancel_a_training_job_in_the_admin(client, staff):
    client.force_login(staff)
    response = client.post(reverse("admin:recognizer_trainingjob_add"), {"mode": "fine_tune", "epochs": "2"})
    assert response.status_code == 302
    job = TrainingJob.objects.get()
    assert job.state == TrainingJob.State.QUEUED and job.requested_by == staff
    assert job.base_version == model_versions.active_model_version()

    client.post(
        reverse("admin:recognizer_trainingjob_changelist"),
        {"action": "cancel_jobs", "_selected_action": [job.pk]},
    )
    job.refresh_from_db()
    assert job.state == TrainingJob.State.CANCELLED
    assert "Cancelled" in client.get(reverse("admin:recognizer_trainingjob_changelist")).content.decode()
