"""Pictures are read as whole numbers: per-digit confidences and probabilities, the picture's size, and
labels as text (`true_digits`, `staff_digits`) instead of one digit (`true_label`, `staff_label`).

Every row is kept. A one-digit prediction becomes a number of one digit: its probabilities a list of one
10-list, its confidence the only per-digit confidence, its labels the digit as text. Its model input (a
28x28 PNG) is already a strip of one. The picture's size is read from the stored upload's header where
the file is there.

Going back keeps single-digit labels; a label of several digits cannot be a `true_label` and is dropped,
as are the per-digit probabilities of a number of several digits.
"""

from django.db import migrations, models

BATCH = 500
EXIF_ORIENTATION = 0x0112
ORIENTATIONS_ON_THEIR_SIDE = (5, 6, 7, 8)  # EXIF orientations that swap width and height


def upright_size(stored) -> tuple[int | None, int | None]:
    """The stored upload's size once turned upright, from its header; (None, None) when it cannot be read."""
    from PIL import Image

    if not stored:
        return None, None
    try:
        with stored.open("rb") as file, Image.open(file) as picture:
            width, height = picture.size
            if picture.getexif().get(EXIF_ORIENTATION) in ORIENTATIONS_ON_THEIR_SIDE:
                width, height = height, width
    except Exception:  # best effort: a missing or unreadable file leaves the size unknown, the row is kept
        return None, None
    return width, height


def _in_batches(apps, convert, fields):
    Prediction = apps.get_model("recognizer", "Prediction")
    batch = []
    for prediction in Prediction.objects.order_by("pk").iterator(chunk_size=BATCH):
        convert(prediction)
        batch.append(prediction)
        if len(batch) == BATCH:
            Prediction.objects.bulk_update(batch, fields)
            batch = []
    if batch:
        Prediction.objects.bulk_update(batch, fields)


def digits_to_numbers(apps, schema_editor):
    def convert(prediction):
        prediction.true_digits = "" if prediction.true_label is None else str(prediction.true_label)
        prediction.staff_digits = "" if prediction.staff_label is None else str(prediction.staff_label)
        old = prediction.probabilities
        prediction.probabilities = [old] if old and not isinstance(old[0], list) else (old or [])
        one_digit = len(prediction.digits) == 1 and prediction.confidence is not None
        prediction.confidences = [prediction.confidence] if one_digit else []
        prediction.image_width, prediction.image_height = upright_size(prediction.image)

    _in_batches(
        apps,
        convert,
        ["true_digits", "staff_digits", "probabilities", "confidences", "image_width", "image_height"],
    )


def numbers_to_digits(apps, schema_editor):
    def convert(prediction):
        prediction.true_label = int(prediction.true_digits) if len(prediction.true_digits) == 1 else None
        prediction.staff_label = int(prediction.staff_digits) if len(prediction.staff_digits) == 1 else None
        nested = prediction.probabilities or []
        prediction.probabilities = nested[0] if len(nested) == 1 else None

    _in_batches(apps, convert, ["true_label", "staff_label", "probabilities"])


class Migration(migrations.Migration):
    dependencies = [
        ("recognizer", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="prediction",
            name="confidences",
            field=models.JSONField(blank=True, default=list, help_text="The confidence of each digit."),
        ),
        migrations.AddField(
            model_name="prediction",
            name="image_width",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="prediction",
            name="image_height",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="prediction",
            name="true_digits",
            field=models.CharField(blank=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="prediction",
            name="staff_digits",
            field=models.CharField(blank=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(digits_to_numbers, numbers_to_digits),
        migrations.RemoveConstraint(model_name="prediction", name="true_label_is_a_digit"),
        migrations.RemoveConstraint(model_name="prediction", name="staff_label_is_a_digit"),
        migrations.RemoveField(model_name="prediction", name="true_label"),
        migrations.RemoveField(model_name="prediction", name="staff_label"),
        migrations.AlterField(
            model_name="prediction",
            name="probabilities",
            field=models.JSONField(
                blank=True, default=list, help_text="The 10 class probabilities of each digit (a list of 10-lists)."
            ),
        ),
        migrations.AlterField(
            model_name="prediction",
            name="confidence",
            field=models.FloatField(blank=True, help_text="How sure the whole number is.", null=True),
        ),
        migrations.AlterField(
            model_name="prediction",
            name="boxes",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="[left, top, right, bottom] per digit, in the upright picture's pixels.",
            ),
        ),
        migrations.AddConstraint(
            model_name="prediction",
            constraint=models.CheckConstraint(
                condition=models.Q(("true_digits__regex", "^[0-9]*$")), name="true_digits_are_digits"
            ),
        ),
        migrations.AddConstraint(
            model_name="prediction",
            constraint=models.CheckConstraint(
                condition=models.Q(("staff_digits__regex", "^[0-9]*$")), name="staff_digits_are_digits"
            ),
        ),
    ]
