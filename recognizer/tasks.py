"""Celery tasks: thin wrappers that take an id and call a service.

The model is loaded once per worker process, after the fork (`worker_process_init`), so each
process has its own TensorFlow runtime and none is loaded in the web process. Each worker also runs a
watch thread (`worker_ready`): its heartbeat, and the recovery sweep (recognizer/worker_watch.py).
"""

from __future__ import annotations

import logging
import os

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_prerun, worker_process_init, worker_ready, worker_shutdown
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from recognizer import services, worker_watch
from recognizer.services.stored_files import STORE_ERRORS

logger = logging.getLogger(__name__)


@worker_process_init.connect
def load_model_in_worker(**_kwargs) -> None:
    import tensorflow as tf

    # Each worker process gets its share of the cores instead of all of them fighting.
    tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get("TF_NUM_THREADS", "1")))
    tf.config.threading.set_inter_op_parallelism_threads(1)
    # A training worker (make worker-training) loads the models it trains, not the one that reads uploads.
    if os.environ.get("WORKER_ROLE") != "training":
        services.active_classifier()


@task_prerun.connect
def drop_broken_database_connection(task=None, **_kwargs) -> None:
    # Celery would close the database connection around every task (a new connection per picture, the largest
    # cost after the model); CELERY_DB_REUSE_MAX keeps it, and, as Django does between requests, only a
    # connection that failed or outlived DB_CONN_MAX_AGE is dropped here, so a database restart costs one retry.
    # (An eager task runs inside the caller's request or transaction: its connection is the caller's.)
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


@worker_ready.connect
def start_worker_watch(sender=None, **_kwargs) -> None:
    worker_watch.start(app=sender.app, worker_name=sender.hostname)


@worker_shutdown.connect
def stop_worker_watch(**_kwargs) -> None:
    worker_watch.stop()


def retry_countdown(retries: int) -> int:
    """Seconds before the next try: 2, 4, 8, ... up to PREDICTION_RETRY_MAX_COUNTDOWN."""
    return min(2 ** (retries + 1), settings.PREDICTION_RETRY_MAX_COUNTDOWN)


def mark_failed_unless_database_refuses(prediction_id: int, reason: str) -> None:
    try:
        services.prediction_mark_failed(prediction_id=prediction_id, reason=reason)
    except DatabaseError:
        # Still refusing: the row stays pending or processing, never lost; the recovery sweep queues it again
        # once the database is back (SWEEP_PENDING_AFTER_SECONDS / SWEEP_PROCESSING_AFTER_SECONDS).
        logger.error("Prediction %s: could not be marked failed either; left to the recovery sweep", prediction_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def run_prediction(self, prediction_id: int) -> None:
    max_retries = settings.PREDICTION_MAX_RETRIES
    try:
        services.prediction_run(prediction_id=prediction_id)
    except SoftTimeLimitExceeded:
        mark_failed_unless_database_refuses(prediction_id, "The prediction took too long and was stopped.")
    except (DatabaseError, *STORE_ERRORS) as error:  # transient: the database or the file store hiccuped
        if self.request.retries >= max_retries:
            # The error's own text can hold server paths; it goes to the log, the reason stays generic.
            logger.error("Prediction %s: gave up after %s retries: %s", prediction_id, max_retries, error)
            reason = (
                f"Gave up after {max_retries} retries: the stored picture or the database could not be "
                f"reached ({type(error).__name__})."
            )
            mark_failed_unless_database_refuses(prediction_id, reason)
            return
        raise self.retry(exc=error, countdown=retry_countdown(self.request.retries), max_retries=max_retries) from error
    except Exception as error:
        logger.exception("Prediction %s failed", prediction_id)
        mark_failed_unless_database_refuses(prediction_id, f"Internal error: {type(error).__name__}")


# Training runs for minutes, on its own queue and worker: its own time limits, far above a prediction's. A lost
# training worker is noticed through the job's heartbeat (services.training_jobs_fail_stale), not by redelivery.
@shared_task(acks_late=False, soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def train_model_version(job_id: int) -> None:
    from recognizer.services.model_versions import training_job_run

    training_job_run(job_id=job_id)
