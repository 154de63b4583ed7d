"""When a prediction was last queued and last started, so that the recovery sweep can tell a prediction
whose message or worker was lost from one that is simply waiting its turn. Existing rows get neither: a
pending one is queued again at the first sweep, a processing one is judged by its creation time."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("recognizer", "0004_model_registry")]

    operations = [
        migrations.AddField(
            model_name="prediction",
            name="queued_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="queued"),
        ),
        migrations.AddField(
            model_name="prediction",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="started"),
        ),
    ]
