"""Queues again the predictions left pending, e.g. while the broker was down."""

from django.core.management.base import BaseCommand

from recognizer.services import predictions_requeue_pending


class Command(BaseCommand):
    help = "Queue every pending prediction again (run after the broker comes back)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, default=0, help="only those pending for at least this many seconds"
        )

    def handle(self, *args, **options):
        count = predictions_requeue_pending(older_than_seconds=options["older_than"])
        self.stdout.write(f"Queued {count} pending prediction(s).")
