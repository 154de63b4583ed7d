"""Web and workers on different machines share one file store: an S3-protocol server (moto's, started here on
127.0.0.1) holds the uploads, the model inputs and the trained model versions, and a real Celery worker process
that has no folder in common with the web process reads and writes them there."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
import uuid
import zipfile
from pathlib import Path

import boto3
import numpy as np
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from digitsite.file_store import default_file_store
from mlcore.paths import DEFAULT_MODEL_PATH
from recognizer import services
from recognizer.demo import demo_predictions_load
from recognizer.models import Prediction
from recognizer.registry import ModelVersion
from recognizer.services import model_versions
from tests.conftest import (
    TEST_BROKER_KEY_PREFIX,
    TEST_BROKER_URL,
    _redis_available,
    celery_broker,
    celery_worker,
    require_services,
)
from tests.images import paper_photo
from tests.prediction_rows import finished_prediction
from tests.processes import TcpProxy, free_port

pytestmark = pytest.mark.integration

# The worker of these tests has a queue of its own: the session's worker (on the folder store) must not take
# their uploads.
STORE_BROKER_KEY_PREFIX = TEST_BROKER_KEY_PREFIX.rstrip(":") + "-store:"
STORE_PREFIX = "site-a"


@pytest.fixture(scope="module")
def s3_server():
    """A real S3-protocol server (moto's server mode) on a free port of 127.0.0.1; its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def store_env(s3_server) -> dict[str, str]:
    """The variables a machine of the site gets to use the shared store (README "Running on several machines"),
    with a fresh bucket."""
    environ = {
        "S3_BUCKET": f"digitsite-{uuid.uuid4().hex[:12]}",
        "S3_ENDPOINT_URL": s3_server,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "test-key",
        "S3_SECRET_ACCESS_KEY": "test-secret",
        "S3_PREFIX": STORE_PREFIX,
    }
    bucket_client(environ).create_bucket(Bucket=environ["S3_BUCKET"])
    return environ


def bucket_client(environ: dict[str, str]):
    return boto3.client(
        "s3",
        endpoint_url=environ["S3_ENDPOINT_URL"],
        region_name=environ["S3_REGION"],
        aws_access_key_id=environ["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=environ["S3_SECRET_ACCESS_KEY"],
    )


def bucket_keys(environ: dict[str, str]) -> set[str]:
    listed = bucket_client(environ).list_objects_v2(Bucket=environ["S3_BUCKET"])
    return {item["Key"] for item in listed.get("Contents", [])}


@pytest.fixture
def shared_store(store_env, settings):
    """This (web) process stores its files in the bucket, through the same settings code as a deployed site."""
    settings.STORAGES = {**settings.STORAGES, "default": default_file_store(store_env)}
    return store_env


@contextlib.contextmanager
def store_worker(store_env: dict[str, str], folder: Path, **env_overrides: str):
    """A real worker process on the shared store, with a media folder and a model cache of its own (nothing in
    common with this process but PostgreSQL, Redis and the bucket). Yields its model cache folder."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        require_services("the worker shares the test database: set DATABASE_URL to PostgreSQL (make test does)")
    if not _redis_available(TEST_BROKER_URL):
        require_services(f"no Redis at {TEST_BROKER_URL}")
    import redis

    broker = redis.Redis.from_url(TEST_BROKER_URL)
    model_cache = folder / "worker-model-cache"
    env = {
        **store_env,
        "CELERY_BROKER_KEY_PREFIX": STORE_BROKER_KEY_PREFIX,
        "MEDIA_ROOT": str(folder / "worker-media"),
        "MODEL_CACHE_DIR": str(model_cache),
        **env_overrides,
    }
    try:
        with (
            celery_worker(queues="inference", log_path=folder / "store-worker.log", env=env),
            celery_broker(TEST_BROKER_URL, key_prefix=STORE_BROKER_KEY_PREFIX),
        ):
            yield model_cache
    finally:
        for key in broker.scan_iter(f"{STORE_BROKER_KEY_PREFIX}*"):
            broker.delete(key)


def wait_until(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f} s"
        time.sleep(0.3)
    return result


def finished(prediction_id: int) -> Prediction:
    return wait_until(
        lambda: Prediction.objects.filter(pk=prediction_id, status__in=["done", "failed"]).first(),
        seconds=180,
        what="the worker's answer",
    )


def stored_key(name: str) -> str:
    return f"{STORE_PREFIX}/{name}"


@pytest.mark.django_db(transaction=True)
def test_alices_upload_is_kept_in_the_bucket_read_by_the_worker_shown_to_her_alone_and_deleted_with_it(
    shared_store, alice, bob, staff, client, tmp_path
):
    photo = paper_photo(4)
    with store_worker(shared_store, tmp_path):
        client.force_login(alice)
        sent = client.post("/api/v1/predictions/", {"image": SimpleUploadedFile("four.jpg", photo, "image/jpeg")})
        assert sent.status_code == 202, sent.content  # queued for the worker
        [answer] = sent.json()["predictions"]
        prediction = finished(answer["id"])

    assert prediction.status == "done", prediction.error
    assert prediction.digits == "4"
    # The upload (written by the web process) and what the model saw (written by the worker) are in the bucket,
    # and on neither machine's disk.
    assert {stored_key(prediction.image.name), stored_key(prediction.model_input.name)} <= bucket_keys(shared_store)
    for name in (prediction.image.name, prediction.model_input.name):
        assert not (Path(settings.MEDIA_ROOT) / name).exists()
        assert not (tmp_path / "worker-media" / name).exists()

    # Served by our views to its owner: the bytes themselves, never a link to the bucket.
    detail = client.get(answer["url"])
    assert shared_store["S3_ENDPOINT_URL"] not in detail.content.decode()
    picture = client.get(detail.json()["image_url"])
    assert picture.status_code == 200
    assert picture["Content-Type"] == "image/jpeg"
    assert picture["Cache-Control"].startswith("private")
    assert b"".join(picture.streaming_content) == photo
    model_input = client.get(detail.json()["model_input_url"])
    with Image.open(io.BytesIO(b"".join(model_input.streaming_content))) as seen:
        assert seen.size == (28, 28)
    page_picture = client.get(f"/predictions/{prediction.pk}/picture/upload/?size=thumb")
    assert page_picture["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(page_picture.content)) as thumbnail:
        assert max(thumbnail.size) <= 96
    download = client.get("/accounts/download/")
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        assert photo in [archive.read(name) for name in archive.namelist() if name.startswith("pictures/")]

    client.force_login(bob)
    assert client.get(detail.json()["image_url"]).status_code == 404
    assert client.get(f"/predictions/{prediction.pk}/picture/upload/").status_code == 404

    client.force_login(staff)
    admin_page = client.get(f"/admin/recognizer/prediction/{prediction.pk}/change/")
    assert admin_page.status_code == 200
    assert shared_store["S3_ENDPOINT_URL"] not in admin_page.content.decode()
    assert client.get(f"/admin/recognizer/prediction/{prediction.pk}/picture/upload/").status_code == 200

    client.force_login(alice)
    assert client.delete(answer["url"]).status_code == 204
    assert not bucket_keys(shared_store) & {
        stored_key(prediction.image.name),
        stored_key(prediction.model_input.name),
    }


@pytest.mark.django_db(transaction=True)
def test_a_model_version_kept_in_the_bucket_is_fetched_by_each_machine_and_reads_uploads_once_promoted(
    shared_store, alice, staff, tmp_path, settings
):
    card = json.loads(DEFAULT_MODEL_PATH.with_suffix(".json").read_text())
    card["version"] = "9.9.9-shared"
    name = f"models/{card['version']}/digit_cnn.keras"
    with DEFAULT_MODEL_PATH.open("rb") as model_file:
        default_storage.save(name, model_file)
    default_storage.save(name.replace(".keras", ".json"), ContentFile(json.dumps(card).encode()))
    version = ModelVersion.objects.create(
        version=card["version"], file=name, card=card, evaluation={"refusals": []}, created_by=staff
    )
    assert stored_key(name) in bucket_keys(shared_store)

    # This machine keeps a copy of its own, the card beside the model.
    settings.MODEL_CACHE_DIR = tmp_path / "web-model-cache"
    local = Path(model_versions.model_version_path(version))
    assert local == tmp_path / "web-model-cache" / name
    assert local.read_bytes() == DEFAULT_MODEL_PATH.read_bytes()
    assert json.loads(local.with_suffix(".json").read_text())["version"] == "9.9.9-shared"

    with store_worker(shared_store, tmp_path) as worker_model_cache:

        def read_by_worker() -> Prediction:
            upload = SimpleUploadedFile("four.jpg", paper_photo(4), content_type="image/jpeg")
            return finished(services.prediction_create(user=alice, upload=upload).pk)

        before = read_by_worker()
        model_versions.model_version_promote(version=version, user=staff)
        after = read_by_worker()

    assert before.model_version == json.loads(DEFAULT_MODEL_PATH.with_suffix(".json").read_text())["version"]
    assert after.status == "done", after.error
    assert after.model_version == "9.9.9-shared"
    assert after.digits == "4"
    # The worker fetched the version from the bucket into its own cache (it shares no folder with this process).
    fetched = worker_model_cache / name
    assert fetched.read_bytes() == DEFAULT_MODEL_PATH.read_bytes()
    assert not list(fetched.parent.glob("*.part"))


def closed_port_in_front_of(endpoint_url: str) -> TcpProxy:
    """A port that refuses connections until `accept()`, then forwards them to the store: a store out of reach."""
    return TcpProxy(int(endpoint_url.rsplit(":", 1)[1]))


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_cannot_reach_the_store_for_a_while_reads_the_upload_once_it_can(shared_store, alice, tmp_path):
    store = closed_port_in_front_of(shared_store["S3_ENDPOINT_URL"])
    worker_endpoint = f"http://127.0.0.1:{store.port}"
    try:
        with store_worker(shared_store, tmp_path, S3_ENDPOINT_URL=worker_endpoint):
            upload = SimpleUploadedFile("four.jpg", paper_photo(4), content_type="image/jpeg")
            prediction = services.prediction_create(user=alice, upload=upload)
            log = tmp_path / "store-worker.log"
            wait_until(
                lambda: "Retry in" in log.read_text() or Prediction.objects.get(pk=prediction.pk).is_finished,
                seconds=180,
                what="the worker's first try",
            )
            assert Prediction.objects.get(pk=prediction.pk).status != "failed", "failed at the first store error"
            store.accept()
            read = finished(prediction.pk)
    finally:
        store.refuse()

    assert read.status == "done", read.error
    assert read.digits == "4"
    assert stored_key(read.model_input.name) in bucket_keys(shared_store)


def lose_the_store(settings, shared_store) -> TcpProxy:
    """From now on this (web) process finds the store's port closed."""
    store = closed_port_in_front_of(shared_store["S3_ENDPOINT_URL"])
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_file_store({**shared_store, "S3_ENDPOINT_URL": f"http://127.0.0.1:{store.port}"}),
    }
    return store


@pytest.mark.django_db(transaction=True)
def test_alice_deleting_a_prediction_while_the_store_is_out_of_reach_gets_it_deleted(
    shared_store, alice, client, settings, caplog
):
    prediction = finished_prediction(alice, digits="7")
    kept = {stored_key(prediction.image.name), stored_key(prediction.model_input.name)}
    assert kept <= bucket_keys(shared_store)
    lose_the_store(settings, shared_store)
    client.force_login(alice)

    response = client.delete(f"/api/v1/predictions/{prediction.pk}/")

    assert response.status_code == 204
    assert not Prediction.objects.filter(pk=prediction.pk).exists()
    assert client.get(f"/api/v1/predictions/{prediction.pk}/").status_code == 404
    # Its files could not be deleted then: they are no one's, and the log says so.
    assert kept <= bucket_keys(shared_store)
    assert f"Could not delete {prediction.image.name} from the file store" in caplog.text


@pytest.mark.django_db
def test_staff_export_the_labelled_digits_from_the_bucket(shared_store, alice):
    labelled = finished_prediction(alice, digits="1", true_digits="7")
    assert stored_key(labelled.model_input.name) in bucket_keys(shared_store)
    out = io.BytesIO()

    export = services.labelled_dataset_export(predictions=Prediction.objects.all(), out=out)

    assert export.exported == 1
    out.seek(0)
    with np.load(out) as dataset:
        assert dataset["y_train"].tolist() == [7]
        assert dataset["x_train"].shape == (1, 28, 28) and dataset["x_train"].any()


@pytest.mark.django_db
def test_the_demo_data_loads_its_pictures_into_the_bucket(shared_store, django_user_model, client):
    demo = django_user_model.objects.create_user("demo", "demo@example.com", "digitsite-demo")

    created = demo_predictions_load(manifest=Path(settings.BASE_DIR) / "fixtures" / "demo_predictions.json")

    assert created == Prediction.objects.filter(user=demo).count() > 0
    first = Prediction.objects.filter(user=demo).first()
    assert stored_key(first.image.name) in bucket_keys(shared_store)
    client.force_login(demo)
    assert client.get(f"/predictions/{first.pk}/picture/upload/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_alice_is_told_to_try_again_while_the_store_is_out_of_reach_and_nothing_half_saved_is_kept(
    shared_store, alice, client, settings
):
    shown = finished_prediction(alice, digits="7")
    lose_the_store(settings, shared_store)
    client.force_login(alice)
    client.raise_request_exception = False  # answered as the site answers it, not raised into the test
    photo = paper_photo(4)

    sent = client.post("/api/v1/predictions/", {"image": SimpleUploadedFile("four.jpg", photo, "image/jpeg")})
    page = client.post(
        "/upload/", {"images": [SimpleUploadedFile("four.jpg", photo, "image/jpeg")]}, HTTP_ACCEPT_LANGUAGE="ta"
    )
    picture = client.get(f"/api/v1/predictions/{shown.pk}/image/")

    assert sent.status_code == 503
    assert sent.json()["code"] == "file_store_unavailable"
    assert sent["Retry-After"]
    assert page.status_code == 503
    assert "கோப்புச் சேமிப்பகத்தை அணுக முடியவில்லை" in page.content.decode()
    assert picture.status_code == 503
    assert list(Prediction.objects.values_list("pk", flat=True)) == [shown.pk]
