"""System checks for running in production (`manage.py check --deploy`, and every start of the WSGI app).

With DEBUG off, every page names its static files by the hashed names in collectstatic's manifest
(STATIC_ROOT/staticfiles.json). Without the manifest, or with one older than the files, rendering a page
raises and every HTML page is a 500 that says nothing: these checks say why, before the first request.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import Error, register
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
