"""An empty staff label with its review time now means "not a digit" (the picture holds none).

Until now, taking a staff label back left the reviewer and the time on the row with an empty label. Those
rows were unreviewed, not "not a digit": their reviewer and time are cleared, so they stay unreviewed. No
row is removed and no label changes. Going back leaves the rows as they are (an empty label is unlabelled
there either way).
"""

from django.db import migrations


def clear_taken_back_reviews(apps, schema_editor):
    Prediction = apps.get_model("recognizer", "Prediction")
    Prediction.objects.filter(staff_digits="", reviewed_at__isnull=False).update(reviewed_at=None, reviewed_by=None)


class Migration(migrations.Migration):
    dependencies = [("recognizer", "0002_numbers")]

    operations = [migrations.RunPython(clear_taken_back_reviews, migrations.RunPython.noop)]
