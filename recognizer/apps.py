from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecognizerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recognizer"
    verbose_name = _("Digit recognition")

    def ready(self) -> None:
        from recognizer import checks, signals  # noqa: F401  (registers the system checks, connects the receivers)
