"""How the worker saves an answer: one UPDATE of the answer's columns, so a prediction deleted while its
picture was being read stays deleted and leaves no file behind."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from recognizer import services
from recognizer.models import Prediction
from tests.images import paper_photo

pytestmark = pytest.mark.django_db


class ReaderDeletingTheRowMeanwhile:
    """The real reader; while it reads, the owner deletes the prediction (from another request)."""

    def __init__(self, prediction: Prediction) -> None:
        self.reader = services.active_classifier()
        self.version = self.reader.version
        self.prediction = prediction

    def read_upload(self, data: bytes, **options):
        services.prediction_delete(prediction=Prediction.objects.get(pk=self.prediction.pk))
        return self.reader.read_upload(data, **options)


def test_a_prediction_deleted_while_its_picture_is_read_stays_deleted_with_no_file_left(alice, private_media_root):
    prediction = Prediction(user=alice, created_at=timezone.now(), original_name="four.jpg")
    prediction.image.save("four.jpg", ContentFile(paper_photo(4)), save=True)
    model_inputs = private_media_root / "model_inputs"
    earlier = set(model_inputs.rglob("*.png"))  # other tests' files, in the run's shared media folder

    answer = services.prediction_run(prediction_id=prediction.pk, classifier=ReaderDeletingTheRowMeanwhile(prediction))

    assert answer is None
    assert not Prediction.objects.filter(pk=prediction.pk).exists()
    assert set(model_inputs.rglob("*.png")) == earlier


def test_the_answer_returned_is_the_one_stored(alice):
    prediction = Prediction(user=alice, created_at=timezone.now(), original_name="four.jpg")
    prediction.image.save("four.jpg", ContentFile(paper_photo(4)), save=True)

    answer = services.prediction_run(prediction_id=prediction.pk)

    stored = Prediction.objects.get(pk=prediction.pk)
    assert (stored.status, stored.digits, stored.attempts) == ("done", "4", 1)
    assert stored.model_input.name == answer.model_input.name and stored.model_input.storage.exists(
        stored.model_input.name
    )
    assert (answer.status, answer.digits, answer.attempts) == ("done", "4", 1)
