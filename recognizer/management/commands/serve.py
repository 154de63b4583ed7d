"""The production web server: collects the static files, checks the database is migrated, then runs gunicorn.

`make serve` runs it; gunicorn's settings (processes, threads, address) come from the environment, see
digitsite/gunicorn.conf.py and README "Running in production".
"""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

GUNICORN_CONFIG = settings.BASE_DIR / "digitsite" / "gunicorn.conf.py"


def unapplied_migrations() -> list[str]:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


class Command(BaseCommand):
    help = "Serve the site with gunicorn, after collectstatic and a check that no migration is pending."
    # The checks run below, once the static files are collected (one of them needs them).
    requires_system_checks = []

    def handle(self, *args, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        try:
            pending = unapplied_migrations()
        except DatabaseError as error:
            raise CommandError(f"Cannot reach the database to check its migrations: {error}") from None
        if pending:
            raise CommandError(
                f"{len(pending)} migration(s) not applied to the database: {', '.join(pending)}. "
                "Run `python manage.py migrate` first (with the same DATABASE_URL), then start again."
            )
        call_command("check", deploy=True, fail_level="ERROR")
        connections.close_all()
        self.stdout.write(f"Starting gunicorn ({GUNICORN_CONFIG.relative_to(settings.BASE_DIR)})", ending="\n")
        self.stdout.flush()
        # exec: gunicorn takes this process's place, so a supervisor's signals (TERM, HUP) reach it directly.
        os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)])
