"""The site's own error page for its views, in development too."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils.cache import patch_cache_control


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


class PrivateAnswersMiddleware:
    """What is answered to a signed-in person (a page, JSON, a picture; through the session or an API token)
    is theirs alone: `Cache-Control: private, no-store` unless the view said how it may be kept.

    Without it a shared cache (a company proxy, a CDN in front of the site) may keep a history page or an
    API answer and hand it to the next person who asks for the same address. Views that may be kept in the
    browser say so themselves: the pictures (`private, max-age=3600`, recognizer/pictures.py).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)  # the API's token user too: DRF sets it on Django's request
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
