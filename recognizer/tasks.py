"""Celery tasks: thin wrappers that take an id and call a service.

The model is loaded once per worker process, after the fork (`worker_process_init`), so each
process has its own TensorFlow runtime and none is loaded in the web process.
"""

from __future__ import annotations

import logging
import os

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from django.db import DatabaseError

from recognizer import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 3


@worker_process_init.connect
def load_model_in_worker(**_kwargs) -> None:
    import tensorflow as tf

    # Each worker process gets its share of the cores instead of all of them fighting.
    tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get("TF_NUM_THREADS", "1")))
    tf.config.threading.set_inter_op_parallelism_threads(1)
    services.active_classifier()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def run_prediction(self, prediction_id: int) -> None:
    try:
        services.prediction_run(prediction_id=prediction_id)
    except SoftTimeLimitExceeded:
        services.prediction_mark_failed(
            prediction_id=prediction_id, reason="The prediction took too long and was stopped."
        )
    except (DatabaseError, OSError) as error:  # transient: the database or the file store hiccuped
        if self.request.retries >= MAX_RETRIES:
            # The error's own text can hold server paths; it goes to the log, the reason stays generic.
            logger.error("Prediction %s: gave up after %s retries: %s", prediction_id, MAX_RETRIES, error)
            reason = (
                f"Gave up after {MAX_RETRIES} retries: the stored picture or the database could not be "
                f"reached ({type(error).__name__})."
            )
            services.prediction_mark_failed(prediction_id=prediction_id, reason=reason)
            return
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from error
    except Exception as error:
        logger.exception("Prediction %s failed", prediction_id)
        services.prediction_mark_failed(prediction_id=prediction_id, reason=f"Internal error: {type(error).__name__}")
