"""Failed logins, counted per user name and per client address in the shared cache, and the lockouts they earn.

After settings.LOGIN_FAILURES_PER_USERNAME failures for one user name (whether it exists or not, so the
limit tells nothing about which names exist), or settings.LOGIN_FAILURES_PER_ADDRESS from one address,
within settings.LOGIN_FAILURE_WINDOW seconds, that name or address is locked out for
settings.LOGIN_LOCKOUT_SECONDS. A lockout ends by itself; tries during it are refused unchecked and are
not counted, so they neither extend it nor test a password. The counts live in the cache (Redis in
production, settings.CACHES), so every web process sees the same ones.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "login-limits"


class LoginLocked(Exception):
    """A login refused unchecked: too many failures for this user name or from this address."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"locked out for {seconds} s")
        self.seconds = seconds


def _digest(text: str) -> str:
    # Keys hold a digest, never the name, address or e-mail itself.
    return hashlib.sha256((text or "").encode()).hexdigest()


def _username_key(username: str) -> str:
    # User names are matched as typed by the login, but "Alice" and "alice" are the same guess at a person.
    return f"{KEY_PREFIX}:username:{_digest((username or '').casefold())}"


def _address_key(address: str) -> str:
    return f"{KEY_PREFIX}:address:{_digest(address)}"


def _count_in_window(key: str, window: int) -> int:
    """Adds one to the count under `key` and returns it; the window starts at the first count."""
    cache.add(key, 0, timeout=window)  # does nothing when the count is there already
    try:
        return cache.incr(key)
    except ValueError:  # the count expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def _subjects(*, username: str, address: str) -> list[tuple[str, int]]:
    """(cache key, failures allowed) for each thing a failure counts against."""
    subjects = [(_username_key(username), settings.LOGIN_FAILURES_PER_USERNAME)]
    if address:
        subjects.append((_address_key(address), settings.LOGIN_FAILURES_PER_ADDRESS))
    return subjects


def login_lockout_seconds(*, username: str, address: str) -> int:
    """Seconds until this user name and this address may try again; 0 when neither is locked out."""
    now = time.time()
    locks = cache.get_many([f"{key}:locked-until" for key, _limit in _subjects(username=username, address=address)])
    return max((math.ceil(until - now) for until in locks.values()), default=0)


def login_check(*, username: str, address: str) -> None:
    """Raises LoginLocked while the user name or the address is locked out."""
    seconds = login_lockout_seconds(username=username, address=address)
    if seconds > 0:
        raise LoginLocked(seconds)


def login_failure_record(*, username: str, address: str) -> int:
    """Counts a failed login; locks out the name or the address that reached its limit.

    Returns the seconds of lockout now in force (0: none). A failure while locked out is not counted.
    """
    locked = login_lockout_seconds(username=username, address=address)
    if locked > 0:
        return locked
    lockout = settings.LOGIN_LOCKOUT_SECONDS
    for key, limit in _subjects(username=username, address=address):
        failures_key = f"{key}:failures"
        if _count_in_window(failures_key, settings.LOGIN_FAILURE_WINDOW) >= limit:
            cache.set(f"{key}:locked-until", time.time() + lockout, timeout=lockout)
            cache.delete(failures_key)  # after the lockout, a fresh count
    return login_lockout_seconds(username=username, address=address)


def login_success_record(*, username: str) -> None:
    """The rightful user got in: the failures counted against the name are forgotten.

    The address's count stays: a guesser must not be able to wipe it by logging in to an account of their own.
    """
    cache.delete(f"{_username_key(username)}:failures")


def login_lockout_clear(*, username: str) -> None:
    """Lifts the lockout of a user name (after its owner proved who they are by a password reset mail)."""
    key = _username_key(username)
    cache.delete_many([f"{key}:failures", f"{key}:locked-until"])


def password_reset_mail_allowed(*, email: str, address: str) -> bool:
    """Whether one more reset mail may go out for this e-mail address, asked from this client address.

    At most settings.PASSWORD_RESET_MAILS_PER_EMAIL mails to one address and PASSWORD_RESET_MAILS_PER_ADDRESS
    requests from one client within PASSWORD_RESET_MAIL_WINDOW seconds, so that nobody can flood someone's
    inbox through the form. Counted whether or not an account has that e-mail (the answer page is the same).
    """
    window = settings.PASSWORD_RESET_MAIL_WINDOW
    subjects = [(f"{KEY_PREFIX}:reset-mail:{_digest(email.casefold())}", settings.PASSWORD_RESET_MAILS_PER_EMAIL)]
    if address:
        subjects.append((f"{KEY_PREFIX}:reset-from:{_digest(address)}", settings.PASSWORD_RESET_MAILS_PER_ADDRESS))
    # Every subject is counted, even once one is over its limit.
    counts = [(_count_in_window(key, window), limit) for key, limit in subjects]
    return all(sent <= limit for sent, limit in counts)
