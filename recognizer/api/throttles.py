"""Throttles per user and per anonymous client, with their rates read from settings on every request.

DRF's own classes copy the rates once at import, so a changed setting (a test's override, a reload)
would never reach them. The counts live in the default cache: Redis, shared by every web process, when
CACHE_URL is set. An anonymous client is its address as `client_address` reads it (X-Forwarded-For only
as far as settings.NUM_PROXIES of our own proxies wrote it), the same address the login limits count.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from recognizer.client_address import client_address


class CurrentRateMixin:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        return client_address(request)


class AnonThrottle(CurrentRateMixin, AnonRateThrottle):
    pass


class UserThrottle(CurrentRateMixin, UserRateThrottle):
    pass
