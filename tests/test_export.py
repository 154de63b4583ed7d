"""The labelled predictions go back to training: what `export_labelled` and the admin action write,
mlcore's own loader reads back identically, one row per digit of each labelled number."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from mlcore.data import concatenate, load_labelled_npz
from recognizer.models import Prediction
from tests.prediction_rows import finished_prediction, stored_model_input

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(alice, bob, staff):
    """Exported, in this order: a user's label, a staff correction over the user's, a staff confirmation."""
    return [
        finished_prediction(alice, digits="9", true_digits="4"),
        finished_prediction(bob, digits="1", true_digits="1", staff_digits="7", reviewer=staff),
        finished_prediction(alice, digits="3", staff_digits="3", reviewer=staff, model_version="cnn-v2"),
    ]


@pytest.fixture
def not_exported(alice):
    return [
        finished_prediction(alice, digits="5"),  # nobody said what it is
        finished_prediction(alice, status=Prediction.Status.FAILED, true_digits="2"),  # the model never saw it
    ]


def expected_arrays(predictions):
    """One-digit predictions: their whole model input and label."""
    return np.stack([stored_model_input(p) for p in predictions]), np.array(
        [int(p.label) for p in predictions], np.uint8
    )


def test_export_labelled_round_trips_through_mlcores_loader(tmp_path, labelled, not_exported):
    out = tmp_path / "corrections.npz"
    call_command("export_labelled", out=str(out), stdout=io.StringIO())
    loaded = load_labelled_npz(out)
    images, labels = expected_arrays(labelled)
    assert loaded.images.dtype == np.uint8 and loaded.images.shape == (3, 28, 28)
    assert np.array_equal(loaded.images, images)
    assert loaded.labels.dtype == np.uint8
    assert loaded.labels.tolist() == [4, 7, 3]  # staff win over the user's 1
    assert np.array_equal(loaded.labels, labels)
    with np.load(out) as arrays:
        assert arrays["prediction_ids"].tolist() == [p.pk for p in labelled]
        assert arrays["model_versions"].tolist() == ["cnn-v1", "cnn-v1", "cnn-v2"]
        assert arrays["positions"].tolist() == [0, 0, 0]
    # It joins MNIST's arrays the way `python -m mlcore train --extra` joins them.
    assert len(concatenate(loaded, loaded)) == 6


def test_export_labelled_for_one_model_version(tmp_path, labelled):
    out = tmp_path / "v2.npz"
    stdout = io.StringIO()
    call_command("export_labelled", out=str(out), model_version="cnn-v2", stdout=stdout)
    loaded = load_labelled_npz(out)
    assert loaded.labels.tolist() == [3]
    assert np.array_equal(loaded.images[0], stored_model_input(labelled[2]))
    assert f"Wrote 1 labelled digit images (from 1 predictions) to {out}." in stdout.getvalue()


def test_an_export_with_nothing_labelled_is_an_empty_set_the_loader_accepts(tmp_path, not_exported):
    out = tmp_path / "empty.npz"
    call_command("export_labelled", out=str(out), stdout=io.StringIO())
    loaded = load_labelled_npz(out)
    assert loaded.images.shape == (0, 28, 28) and len(loaded) == 0


def test_an_export_into_a_missing_folder_is_refused_and_writes_nothing(tmp_path, labelled):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("export_labelled", out=str(tmp_path / "missing" / "x.npz"))
    assert list(tmp_path.iterdir()) == []


def test_the_admin_action_downloads_the_same_dataset_for_the_selected_rows(
    client, staff, tmp_path, labelled, not_exported
):
    client.force_login(staff)
    selected = [labelled[2], labelled[0], not_exported[0]]
    response = client.post(
        reverse("admin:recognizer_prediction_changelist"),
        {"action": "export_dataset", "_selected_action": [p.pk for p in selected]},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="labelled-')
    download = tmp_path / "download.npz"
    download.write_bytes(response.content)
    loaded = load_labelled_npz(download)
    images, labels = expected_arrays([labelled[0], labelled[2]])  # oldest first; the unlabelled one left out
    assert np.array_equal(loaded.images, images) and np.array_equal(loaded.labels, labels)
    with np.load(download) as arrays:
        assert arrays["prediction_ids"].tolist() == [labelled[0].pk, labelled[2].pk]
    page = client.get(reverse("admin:recognizer_prediction_changelist")).content.decode()
    assert "1 selected prediction was left out" in page


def test_the_admin_action_with_nothing_exportable_says_so(client, staff, not_exported):
    client.force_login(staff)
    response = client.post(
        reverse("admin:recognizer_prediction_changelist"),
        {"action": "export_dataset", "_selected_action": [p.pk for p in not_exported]},
        follow=True,
    )
    assert "Nothing to export." in response.content.decode()


def test_a_labelled_number_is_cut_into_one_row_per_digit_with_its_own_label(tmp_path, alice, staff):
    # The model read 4661; the user says 4667: three digits right, the last one wrong.
    number = finished_prediction(alice, digits="4661", true_digits="4667", shown_digits="4667")
    out = tmp_path / "number.npz"
    call_command("export_labelled", out=str(out), stdout=io.StringIO())
    loaded = load_labelled_npz(out)
    strip = stored_model_input(number)
    assert strip.shape == (28, 4 * 28)
    assert loaded.labels.tolist() == [4, 6, 6, 7]
    for place in range(4):
        assert np.array_equal(loaded.images[place], strip[:, 28 * place : 28 * (place + 1)])
    with np.load(out) as arrays:
        assert arrays["prediction_ids"].tolist() == [number.pk] * 4
        assert arrays["positions"].tolist() == [0, 1, 2, 3]


def test_numbers_whose_pieces_do_not_match_their_label_are_skipped_and_counted(tmp_path, alice):
    exported = finished_prediction(alice, digits="123", true_digits="128")
    finished_prediction(alice, digits="12", true_digits="128")  # a digit missed: which piece is which?
    finished_prediction(alice, digits="1?8", true_digits="128")  # a flagged piece
    out = tmp_path / "cut.npz"
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("export_labelled", out=str(out), stdout=stdout, stderr=stderr)
    loaded = load_labelled_npz(out)
    assert loaded.labels.tolist() == [1, 2, 8]
    with np.load(out) as arrays:
        assert arrays["prediction_ids"].tolist() == [exported.pk] * 3
    assert "Wrote 3 labelled digit images (from 1 predictions)" in stdout.getvalue()
    assert "Left out 2 predictions" in stderr.getvalue()
