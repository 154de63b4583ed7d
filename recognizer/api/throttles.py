"""Throttles per user and per anonymous client, with their rates read from settings on every request.

DRF's own classes copy the rates once at import, so a changed setting (a test's override, a reload)
would never reach them.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class CurrentRateMixin:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(CurrentRateMixin, AnonRateThrottle):
    pass


class UserThrottle(CurrentRateMixin, UserRateThrottle):
    pass
