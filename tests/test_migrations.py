"""Reading numbers changed how predictions are stored; the migration keeps every row written before it."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from PIL import Image

from recognizer.models import Prediction

BEFORE_NUMBERS = [("recognizer", "0001_initial")]
NUMBERS = [("recognizer", "0002_numbers")]
OLD_PROBABILITIES = [0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.91, 0.01, 0.01]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes("recognizer")


def photo_turned_on_its_side() -> bytes:
    """A 300x200 JPEG whose EXIF says it is to be shown turned a quarter (orientation 6): upright 200x300."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (235, 235, 235)).save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def migrated_back_to_one_digit():
    """The database as it was before numbers; brought back to the latest schema afterwards, whatever happens."""
    apps = migrate(BEFORE_NUMBERS)
    try:
        yield apps
    finally:
        migrate(latest())


@pytest.mark.django_db(transaction=True)
def test_rows_from_the_one_digit_days_keep_their_answer_and_labels_as_numbers_of_one_digit(
    migrated_back_to_one_digit,
):
    apps = migrated_back_to_one_digit
    user = apps.get_model("auth", "User").objects.create(username="olduser")
    OldPrediction = apps.get_model("recognizer", "Prediction")
    upload = default_storage.save("uploads/old/seven.jpg", ContentFile(photo_turned_on_its_side()))
    now = timezone.now()
    read = OldPrediction.objects.create(
        user_id=user.pk,
        created_at=now,
        image=upload,
        status="done",
        digits="7",
        confidence=0.91,
        probabilities=OLD_PROBABILITIES,
        boxes=[[40, 30, 120, 170]],
        true_label=1,
        staff_label=7,
    )
    nothing = OldPrediction.objects.create(
        user_id=user.pk, created_at=now, image="uploads/old/gone.png", status="done", digits="", true_label=4
    )
    pending = OldPrediction.objects.create(user_id=user.pk, created_at=now, image="uploads/old/new.png")

    migrate(NUMBERS)
    migrate(latest())  # later migrations add columns the current model reads

    read, nothing, pending = (Prediction.objects.get(pk=p.pk) for p in (read, nothing, pending))
    assert (read.digits, read.digit, read.confidence) == ("7", 7, 0.91)
    assert read.confidences == [0.91]
    assert read.probabilities == [OLD_PROBABILITIES]
    assert read.boxes == [[40, 30, 120, 170]]
    assert (read.image_width, read.image_height) == (200, 300)  # upright, read from the stored file's header
    assert (read.true_digits, read.staff_digits, read.label, read.true_label) == ("1", "7", "7", 1)
    assert read.is_correct is True
    assert (nothing.true_digits, nothing.probabilities, nothing.confidences) == ("4", [], [])
    assert (nothing.image_width, nothing.image_height) == (None, None)  # the file is not there: size unknown
    assert nothing.is_correct is False
    assert (pending.true_digits, pending.staff_digits, pending.probabilities) == ("", "", [])


@pytest.mark.django_db(transaction=True)
def test_going_back_keeps_single_digit_labels_and_drops_longer_ones(migrated_back_to_one_digit):
    migrate(latest())  # rows written by the current model, then every migration back to one digit
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create(username="newuser")
    now = timezone.now()
    one = Prediction.objects.create(
        user=user,
        created_at=now,
        image="uploads/new/one.png",
        status="done",
        digits="7",
        confidence=0.9,
        confidences=[0.9],
        probabilities=[OLD_PROBABILITIES],
        true_digits="7",
        staff_digits="1",
    )
    number = Prediction.objects.create(
        user=user,
        created_at=now,
        image="uploads/new/number.png",
        status="done",
        digits="46",
        confidences=[0.9, 0.8],
        probabilities=[OLD_PROBABILITIES, OLD_PROBABILITIES],
        true_digits="46",
    )

    apps = migrate(BEFORE_NUMBERS)

    OldPrediction = apps.get_model("recognizer", "Prediction")
    one, number = OldPrediction.objects.get(pk=one.pk), OldPrediction.objects.get(pk=number.pk)
    assert (one.true_label, one.staff_label, one.probabilities) == (7, 1, OLD_PROBABILITIES)
    assert (number.digits, number.true_label, number.probabilities) == ("46", None, None)


@pytest.mark.django_db(transaction=True)
def test_a_staff_label_taken_back_before_not_a_digit_existed_stays_unreviewed():
    newest = latest()
    try:
        apps = migrate(NUMBERS)
        user = apps.get_model("auth", "User").objects.create(username="olduser")
        OldPrediction = apps.get_model("recognizer", "Prediction")
        now = timezone.now()
        row = {"user_id": user.pk, "created_at": now, "image": "uploads/old/x.png", "status": "done", "digits": "7"}
        # Taken back: the label emptied, the reviewer and the time left behind (what the old service did).
        taken_back = OldPrediction.objects.create(**row, staff_digits="", reviewed_at=now, reviewed_by_id=user.pk)
        labelled = OldPrediction.objects.create(**row, staff_digits="1", reviewed_at=now, reviewed_by_id=user.pk)

        apps = migrate([("recognizer", "0003_empty_staff_label_is_not_a_digit")])

        NewPrediction = apps.get_model("recognizer", "Prediction")
        taken_back, labelled = (NewPrediction.objects.get(pk=p.pk) for p in (taken_back, labelled))
        # Unreviewed again, not "not a digit"; the real label keeps its reviewer.
        assert (taken_back.staff_digits, taken_back.reviewed_at, taken_back.reviewed_by_id) == ("", None, None)
        assert (labelled.staff_digits, labelled.reviewed_at, labelled.reviewed_by_id) == ("1", now, user.pk)
        assert NewPrediction.objects.count() == 2
    finally:
        migrate(newest)
