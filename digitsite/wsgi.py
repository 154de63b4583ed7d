"""
WSGI config for digitsite project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digitsite.settings")

application = get_wsgi_application()

# With DEBUG off and no collected static files every page would be a 500 that says nothing: a server
# started that way stops at once and says why (recognizer/checks.py).
from recognizer.checks import refuse_to_start_without_static_files  # noqa: E402  (needs Django set up)

refuse_to_start_without_static_files()

# Under `make run` (no broker) this process reads the pictures itself: the reader loads in the background
# now, so that the first upload does not wait for TensorFlow (recognizer/services/reader_warmup.py).
from recognizer.services.reader_warmup import reader_load_in_background  # noqa: E402

reader_load_in_background()
