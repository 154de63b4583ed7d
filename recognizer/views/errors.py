"""The server-error page: a database or a file store that cannot be reached is a 503 ("try again"), not a 500.

Django calls `server_error` (settings: `handler500` in digitsite/urls.py) for any exception a view or a
middleware let through, while that exception is being handled, so it can tell what went wrong. A refused
connection, a full pool or a statement timeout are the database being unavailable, not a bug: the API
answers its usual JSON error, pages a plain 503 page, both with Retry-After. So does a bucket (S3_BUCKET) out of
reach while a picture is saved or read.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views import defaults

from recognizer.services.stored_files import REMOTE_STORE_ERRORS

# How long a client is asked to wait before trying again.
DATABASE_RETRY_AFTER_SECONDS = 10


def database_unavailable(request):
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": gettext("The database is unavailable right now. Try again in a moment."),
                "code": "database_unavailable",
            },
            status=503,
        )
    else:
        response = render(request, "503.html", status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def file_store_unavailable(request):
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": gettext("The file store is unavailable right now. Try again in a moment."),
                "code": "file_store_unavailable",
            },
            status=503,
        )
    else:
        context = {
            "heading": gettext("Temporarily unavailable"),
            "message": gettext("The site cannot reach its file store right now. Please try again in a moment."),
            "link_text": gettext("Try again"),
            "link_url": request.get_full_path(),
        }
        response = render(request, "error_page.html", context, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request):
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        return database_unavailable(request)
    if isinstance(error, REMOTE_STORE_ERRORS):
        return file_store_unavailable(request)
    return defaults.server_error(request)
