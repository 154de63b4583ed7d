"""Receivers for Django's auth signals: failed logins counted, and API tokens revoked on a new password.

Connected in RecognizerConfig.ready(). The logic is in services; these only pass the signal on.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from recognizer.client_address import client_address
from recognizer.services import accounts, login_limits


@receiver(user_login_failed, dispatch_uid="recognizer.count_failed_login")
def count_failed_login(sender, credentials, request=None, **kwargs) -> None:
    username = credentials.get("username") or credentials.get(get_user_model().USERNAME_FIELD) or ""
    address = client_address(request) if request is not None else ""
    login_limits.login_failure_record(username=str(username), address=address)


@receiver(user_logged_in, dispatch_uid="recognizer.forget_failed_logins")
def forget_failed_logins(sender, request, user, **kwargs) -> None:
    login_limits.login_success_record(username=user.get_username())


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="recognizer.note_password_change")
def note_password_change(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Notes on the user whether this save gives them a new password (any way: the site, a reset mail,
    the admin, `manage.py changepassword`)."""
    instance._digitsite_new_password = False
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is None or stored == instance.password:
        return
    # Django re-hashes the same password when its hasher's settings grow stronger (at a login): not a new one.
    typed = getattr(instance, "_password", None)
    instance._digitsite_new_password = not (typed is not None and check_password(typed, stored))


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="recognizer.revoke_tokens_on_new_password")
def revoke_tokens_on_new_password(sender, instance, raw=False, **kwargs) -> None:
    if getattr(instance, "_digitsite_new_password", False):
        instance._digitsite_new_password = False
        accounts.api_tokens_revoke(user=instance)
