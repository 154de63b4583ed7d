"""Loading the reader ahead of the first upload when predictions run in the web process.

With no broker (`make run`), tasks run eagerly: the first upload used to wait about 3.5 s while
TensorFlow was imported and the model loaded, with only "Sending…" on the button. The web process
now loads it in a background thread as it starts (digitsite/wsgi.py), and the pages say that the
reader is starting while it is not loaded yet. Never in a Celery worker (it loads its model after
the fork, tasks.py) nor in the tests (they never import wsgi.py), unless a test asks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import threading
import time

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

THREAD_NAME = "reader-preload"
# What TensorFlow's C++ side prints on its own file descriptor as it starts: notices, not problems. They
# buried the development server's address under `make run`.
TENSORFLOW_START_UP_NOTICES = re.compile(
    r"oneDNN custom operations are on|All log messages before absl::InitializeLog|cpu_feature_guard"
    r"|To enable the following instructions|rebuild TensorFlow with the appropriate compiler flags"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation_placer|could not find cuda drivers"
)

_loaded = threading.Event()


def reader_loaded_in_this_process() -> bool:
    inference = sys.modules.get("mlcore.inference")  # never imported here: that would import TensorFlow
    return _loaded.is_set() or (inference is not None and inference.shared_classifier.cache_info().currsize > 0)


def reader_is_starting() -> bool:
    """Whether an upload sent now would wait for the reader to load in this process (eager mode only)."""
    return bool(settings.CELERY_TASK_ALWAYS_EAGER) and not reader_loaded_in_this_process()


def reader_load_in_background() -> threading.Thread | None:
    """Starts loading the reader in a daemon thread when this process reads the pictures itself."""
    if not settings.CELERY_TASK_ALWAYS_EAGER or not settings.READER_PRELOAD or reader_loaded_in_this_process():
        return None
    thread = threading.Thread(target=_load_reader, name=THREAD_NAME, daemon=True)
    thread.start()
    return thread


def _load_reader() -> None:
    from recognizer.services.model_versions import active_classifier

    started = time.monotonic()
    try:
        with tensorflow_start_up_notices_dropped():
            classifier = active_classifier()
        _loaded.set()
        logger.info(
            "The reader is loaded (model %s, %.1f s): uploads are read at once.",
            getattr(classifier, "version", "?"),
            time.monotonic() - started,
        )
    except Exception:
        # The first upload will load it (and say why if it cannot); the server keeps serving meanwhile.
        logger.exception("Could not load the reader in the background")
    finally:
        connection.close()  # this thread's own database connection


@contextlib.contextmanager
def tensorflow_start_up_notices_dropped():
    """Runs the block with file descriptor 2 caught, then writes back what was caught but TensorFlow's notices.

    The C++ side writes to the descriptor directly (TF_CPP_MIN_LOG_LEVEL does not silence its oneDNN notice).
    Anything else written meanwhile, by any thread, comes out afterwards: late, never lost.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [
                line
                for line in caught.read().decode(errors="replace").splitlines(keepends=True)
                if not TENSORFLOW_START_UP_NOTICES.search(line)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
