"""System checks for running in production (`manage.py check --deploy`, and every start of the WSGI app).

With DEBUG off, every page names its static files by the hashed names in collectstatic's manifest
(STATIC_ROOT/staticfiles.json). Without the manifest, or with one older than the files, rendering a page
raises and every HTML page is a 500 that says nothing: these checks say why, before the first request.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import Error, register
from django.core.checks import Warning as CheckWarning
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages

# collectstatic's default ignore patterns: these files are never collected, so never in the manifest.
COLLECTSTATIC_IGNORED = ["CVS", ".*", "*~"]
COLLECT_HINT = "Run `python manage.py collectstatic --noinput` (make serve does) with the same STATIC_ROOT."


@register("deploy_static", deploy=True)
def static_files_collected_check(app_configs=None, **kwargs) -> list[Error]:
    storage = storages["staticfiles"]
    if settings.DEBUG or not isinstance(storage, ManifestFilesMixin):
        return []
    try:
        collected, _hash = storage.load_manifest()
    except ValueError:  # a damaged manifest
        collected = {}
    if not collected:
        return [
            Error(
                f"Static files are not collected: {settings.STATIC_ROOT}/{storage.manifest_name} is missing or "
                "unreadable, so with DEBUG off every HTML page would fail with a server error (500).",
                hint=COLLECT_HINT,
                id="recognizer.E001",
            )
        ]
    missing = sorted(
        path
        for finder in finders.get_finders()
        for path, _storage in finder.list(COLLECTSTATIC_IGNORED)
        if path.replace("\\", "/") not in collected
    )
    if missing:
        return [
            Error(
                f"{len(missing)} static file(s) are missing from the collected manifest (e.g. "
                f"{', '.join(missing[:3])}): collectstatic ran before they were added, and pages naming them "
                "would fail with a server error (500).",
                hint=COLLECT_HINT,
                id="recognizer.E002",
            )
        ]
    return []


def refuse_to_start_without_static_files() -> None:
    """Called when the WSGI app starts: a server that can only answer 500s stops at once, saying why."""
    errors = static_files_collected_check()
    if errors:
        raise ImproperlyConfigured(" ".join(f"{error.msg} {error.hint}" for error in errors))


@register("deploy_shared_state", deploy=True)
def shared_cache_check(app_configs=None, **kwargs) -> list[CheckWarning]:
    """The API throttles and the failed-login counts live in the cache: per process, they are per process."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or not backend.endswith("LocMemCache"):
        return []
    return [
        CheckWarning(
            "The cache is each process's own memory (CACHE_URL is not set): with several web processes, each "
            "counts API throttles and failed logins apart, so a client gets that many times the limits.",
            hint="Set CACHE_URL to a Redis database, e.g. redis://127.0.0.1:6379/1 (README, Configuration).",
            id="recognizer.W001",
        )
    ]


@register("deploy_email", deploy=True)
def email_check(app_configs=None, **kwargs) -> list[CheckWarning]:
    if settings.DEBUG or os.environ.get("EMAIL_HOST") or os.environ.get("EMAIL_BACKEND"):
        return []
    return [
        CheckWarning(
            "EMAIL_HOST is not set: password reset mails go to an SMTP server on localhost.",
            hint="Set EMAIL_HOST, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD and DEFAULT_FROM_EMAIL (README, Configuration).",
            id="recognizer.W002",
        )
    ]
