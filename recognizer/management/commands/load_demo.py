"""Loads the demo accounts (development only): `demo` and `staff`, password `digitsite-demo`."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Load the demo accounts from fixtures/ (refused when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for development only (DEBUG is off).")
        call_command("loaddata", settings.BASE_DIR / "fixtures" / "demo_users.json", verbosity=0)
        self.stdout.write("Demo accounts: demo / digitsite-demo, staff / digitsite-demo")
