"""Queues again the predictions no worker will read otherwise: left pending while the broker was down, or left
processing by a worker that died. The workers' recovery sweep does the same every SWEEP_INTERVAL_SECONDS."""

from django.conf import settings
from django.core.management.base import BaseCommand

from recognizer.services import predictions_requeue_pending


class Command(BaseCommand):
    help = "Queue again pending predictions, and processing ones whose worker died (the sweep does this too)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=0,
            help="only pending ones queued at least this many seconds ago (never-queued ones always)",
        )
        parser.add_argument(
            "--processing-older-than",
            type=int,
            default=settings.SWEEP_PROCESSING_AFTER_SECONDS,
            help="processing ones started at least this many seconds ago (default: SWEEP_PROCESSING_AFTER_SECONDS)",
        )

    def handle(self, *args, **options):
        count = predictions_requeue_pending(
            older_than_seconds=options["older_than"],
            processing_older_than_seconds=options["processing_older_than"],
            max_attempts=settings.PREDICTION_MAX_ATTEMPTS,
        )
        self.stdout.write(f"Queued {count} pending prediction(s).")
