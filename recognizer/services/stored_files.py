"""Files in the file store: MEDIA_ROOT on this machine, or a bucket every machine shares (digitsite/file_store.py).

Whichever it is, code reaches files only through the storage API (open, save, exists, delete), never through a
path on disk: a bucket has none.
"""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

# What a bucket that cannot be reached raises (no connection, a timeout, the server refusing): on the web side,
# a 503 (recognizer/views/errors.py), as for the database.
REMOTE_STORE_ERRORS: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
# The same and a folder's OSError. A worker retries a prediction on these, as on a database error.
STORE_ERRORS: tuple[type[Exception], ...] = (OSError, *REMOTE_STORE_ERRORS)


def stored_files_delete(*, files: list[tuple[object, str]]) -> int:
    """Deletes each (storage, name); returns how many could not be.

    Called once the rows naming the files are deleted and committed: a file the store refuses to delete then is
    logged and left behind (it is no one's any more), never an error for the person who deleted the rows.
    """
    failed = 0
    for storage, name in files:
        try:
            storage.delete(name)
        except STORE_ERRORS:
            failed += 1
            logger.exception("Could not delete %s from the file store; it is left there", name)
    return failed
