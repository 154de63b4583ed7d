"""Where uploads, model inputs and trained model versions are stored: STORAGES["default"], from the environment.

S3_BUCKET unset: the folder MEDIA_ROOT on this machine (FileSystemStorage), enough for one machine. Set: a
bucket of an S3-compatible store (AWS S3, MinIO, Ceph, ...) through django-storages, shared by every web and
worker machine (README "Running on several machines"). Pictures are private either way: our views check the
owner and send the bytes themselves; no page or API answer ever links to the bucket.
https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
"""

from __future__ import annotations

from collections.abc import Mapping

FILE_SYSTEM_STORE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def default_file_store(environ: Mapping[str, str]) -> dict:
    """STORAGES["default"] for these environment variables (see README "Configuration")."""
    bucket = environ.get("S3_BUCKET", "").strip()
    if not bucket:
        return dict(FILE_SYSTEM_STORE)
    from botocore.config import Config

    endpoint_url = environ.get("S3_ENDPOINT_URL", "").strip() or None
    # Servers other than AWS (MinIO, Ceph, moto) are usually reached as <endpoint>/<bucket>/, not as
    # <bucket>.<endpoint>, which needs a DNS name per bucket.
    addressing_style = environ.get("S3_ADDRESSING_STYLE", "").strip() or ("path" if endpoint_url else "auto")
    timeout = int(environ.get("S3_TIMEOUT", "") or 10)
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url,
        "region_name": environ.get("S3_REGION", "").strip() or None,
        # Empty: boto3 looks for credentials itself (AWS_* variables, ~/.aws, an instance or task role).
        "access_key": environ.get("S3_ACCESS_KEY_ID", "") or None,
        "secret_key": environ.get("S3_SECRET_ACCESS_KEY", "") or None,
        # A folder inside the bucket, so that one bucket can hold several installations.
        "location": environ.get("S3_PREFIX", "").strip().strip("/"),
        # Objects get the bucket's own (private) permissions; url() would only ever give a signed, expiring
        # link, and nothing calls it: pictures go through our views to their owner.
        "default_acl": None,
        "querystring_auth": True,
        # Names are unique (a random name per upload, a version per model): no existence check before each write.
        "file_overwrite": True,
        # A store that does not answer must not hold a web thread or a worker for long: bounded waits, a
        # few retries, then the error (a worker retries the whole prediction later).
        "client_config": Config(
            s3={"addressing_style": addressing_style},
            signature_version="s3v4",
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
