"""Loads the demo data (development only): the accounts `demo` and `staff` (password `digitsite-demo`)
and a few dozen finished predictions of `demo`'s, with feedback, some wrong, for the admin dashboard."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from recognizer.demo import demo_predictions_load


class Command(BaseCommand):
    help = "Load the demo accounts and predictions from fixtures/ (refused when DEBUG is off). Safe to run twice."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for development only (DEBUG is off).")
        fixtures = settings.BASE_DIR / "fixtures"
        call_command("loaddata", fixtures / "demo_users.json", verbosity=0)
        created = demo_predictions_load(manifest=fixtures / "demo_predictions.json")
        self.stdout.write("Demo accounts: demo / digitsite-demo, staff / digitsite-demo")
        self.stdout.write(f"Demo predictions: {created} added (see /admin/recognizer/prediction/dashboard/)")
