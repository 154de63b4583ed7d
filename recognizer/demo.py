"""Demo predictions for development (`manage.py load_demo`), so the admin dashboard has something to show.

The rows come from fixtures/demo_predictions.json and the pictures from fixtures/demo_media/, both made by
fixtures/make_demo_predictions.py with the real model. They belong to the `demo` user; their dates are set
relative to now, so the dashboard's "over time" chart covers the last two weeks whenever they are loaded.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from recognizer.models import Prediction

DEMO_OWNER = "demo"
DEMO_REVIEWER = "staff"


def demo_predictions_load(*, manifest: Path) -> int:
    """Creates the demo predictions not loaded yet; returns how many were created.

    A demo row is known by its owner and original name, so loading twice adds nothing and never
    touches anyone's own predictions.
    """
    users = get_user_model().objects
    owner = users.get(username=DEMO_OWNER)
    reviewer = users.filter(username=DEMO_REVIEWER).first()
    folder = manifest.parent
    existing = set(Prediction.objects.filter(user=owner).values_list("original_name", flat=True))
    now = timezone.now()
    created = 0
    with transaction.atomic():
        for entry in json.loads(manifest.read_text()):
            original_name = f"{entry['name']}.png"
            if original_name in existing:
                continue
            created_at = now - timedelta(minutes=entry["minutes_ago"])
            prediction = Prediction(
                user=owner,
                created_at=created_at,
                original_name=original_name,
                status=Prediction.Status.DONE,
                attempts=1,
                digits=entry["digits"],
                confidence=entry["confidence"],
                confidences=entry["confidences"],
                probabilities=entry["probabilities"],
                boxes=entry["boxes"],
                image_width=entry["image_width"],
                image_height=entry["image_height"],
                model_version=entry["model_version"],
                preprocess_ms=entry["preprocess_ms"],
                inference_ms=entry["inference_ms"],
                finished_at=created_at + timedelta(seconds=1),
                true_digits=entry["true_digits"],
                feedback_at=created_at + timedelta(minutes=2) if entry["true_digits"] else None,
            )
            if entry["staff_digits"]:
                prediction.staff_digits = entry["staff_digits"]
                prediction.reviewed_by = reviewer
                prediction.reviewed_at = created_at + timedelta(hours=6)
            prediction.image.save(original_name, ContentFile((folder / entry["upload"]).read_bytes()), save=False)
            if entry["model_input"]:
                prediction.model_input.save(
                    "input.png", ContentFile((folder / entry["model_input"]).read_bytes()), save=False
                )
            prediction.save()
            created += 1
    return created
