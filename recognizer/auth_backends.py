"""The authentication backend that refuses logins while a user name or an address is locked out.

It comes first in settings.AUTHENTICATION_BACKENDS and never lets anyone in itself: it raises
PermissionDenied (which stops Django's authenticate() before any password is checked) or steps aside for
ModelBackend. The failures are counted by the user_login_failed receiver (recognizer.signals).
"""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.core.exceptions import PermissionDenied

from recognizer.client_address import client_address
from recognizer.services import login_limits


class LoginLockoutBackend(BaseBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        address = client_address(request) if request is not None else ""
        try:
            login_limits.login_check(username=username or "", address=address)
        except login_limits.LoginLocked:
            raise PermissionDenied from None
        return None

    def get_user(self, user_id):
        # Being first in the list, this backend is the one login() records when none is named (as in the test
        # client's force_login); the user is ModelBackend's.
        return ModelBackend().get_user(user_id)
