"""gunicorn's settings for `make serve` (`python manage.py serve`), read from the environment.

See README "Running in production". Threads share a process's memory and its database pool; processes
use the cores. The requests are short except `?wait` uploads, which hold a thread while they wait.
"""

import os

wsgi_app = "digitsite.wsgi:application"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_PROCESSES", "3"))
threads = int(os.environ.get("WEB_THREADS", "8"))
# Longer than the longest `?wait` (API_WAIT_MAX_SECONDS), so a waiting upload is never killed.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
errorlog = "-"

# One pooled database connection per thread is all a process can use at once: the web side then holds at
# most WEB_PROCESSES x WEB_THREADS connections (digitsite/settings.py reads DB_POOL_MAX_SIZE). Set here, in the
# master before it forks, so every web process inherits it; workers and runserver keep their own connections.
os.environ.setdefault("DB_POOL_MAX_SIZE", str(threads))

# gunicorn's runtime control socket sits at one fixed path per user, which two servers on one machine would
# share; we use signals instead (TERM to stop, HUP to reload).
control_socket_disable = True
