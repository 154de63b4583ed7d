"""The site's own error page for its views, in development too."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render


class SiteNotFoundPageMiddleware:
    """A missing prediction, or someone else's, answers the site's 404 page from our views even with DEBUG on.

    With DEBUG on (`make run`), Django answers Http404 with its technical page, which lists every URL of
    the site: a developer trying "someone else's id" saw that instead of what a user sees. The admin and
    the API keep their own answers (the API answers JSON before this is reached).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        match = request.resolver_match
        if (
            isinstance(exception, Http404)
            and match is not None
            and match.func.__module__.startswith("recognizer.views")
        ):
            return render(request, "404.html", status=404)
        return None
