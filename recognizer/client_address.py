"""The address a request comes from, the one the API throttles and the login limits count per."""

from __future__ import annotations

from django.conf import settings


def client_address(request) -> str:
    """The client's IP address.

    X-Forwarded-For is anyone's to write, so it is believed only as far as our own proxies wrote it:
    with settings.NUM_PROXIES = N, the Nth address from its right (each proxy appends the address it saw);
    with 0 (the default) the header is ignored and the connection's address is the client's. This is how
    DRF reads it for its throttles with the same number (REST_FRAMEWORK["NUM_PROXIES"]).
    """
    meta = request.META
    remote = meta.get("REMOTE_ADDR", "") or ""
    num_proxies = settings.NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if num_proxies > 0 and forwarded:
        addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
        if addresses:
            return addresses[-min(num_proxies, len(addresses))]
    return remote
