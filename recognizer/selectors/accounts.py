"""Reads about a person's account: their API token and how much the site keeps for them."""

from __future__ import annotations

from rest_framework.authtoken.models import Token

from recognizer.models import Prediction


def api_token_get(*, user) -> Token | None:
    """The user's API token (DRF keeps at most one per user), or None."""
    return Token.objects.filter(user=user).first()


def account_prediction_count(*, user) -> int:
    return Prediction.objects.owned_by(user).count()
