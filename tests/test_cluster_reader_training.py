"""Training the cluster reader further (`train-cluster-reader --initial`) instead of from the start."""

import json

import numpy as np

from mlcore.inference import load_keras_model
from mlcore.paths import DEFAULT_CLUSTER_READER_PATH
from mlcore.sequence import save_sequence_set
from mlcore.training_data import cluster_sequences
from tests.images import mnist_test_digits
from tests.test_mlcore_inference import run_cli


def test_a_reader_trained_further_starts_from_the_given_one_and_its_card_says_so(tmp_path):
    images, labels = mnist_test_digits()
    inputs, texts = cluster_sequences(images, labels, 6, seed=3)
    assert inputs and any(len(text) >= 2 for text in texts)
    clusters = tmp_path / "clusters.npz"
    save_sequence_set(clusters, inputs, texts)
    out = tmp_path / "further.keras"

    # With a learning rate of 0 nothing is learnt, so every weight must still be the committed reader's.
    result = run_cli(
        "train-cluster-reader", "--data", str(clusters), "--epochs", "1", "--learning-rate", "0",
        "--initial", str(DEFAULT_CLUSTER_READER_PATH), "--version", "further", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    committed = load_keras_model(DEFAULT_CLUSTER_READER_PATH)
    further = load_keras_model(out)
    kernels = [w.name for w in committed.trainable_weights]
    assert kernels == [w.name for w in further.trainable_weights]
    for before, after in zip(committed.trainable_weights, further.trainable_weights, strict=True):
        np.testing.assert_array_equal(before.numpy(), after.numpy())
    card = json.loads(out.with_suffix(".json").read_text())
    committed_card = json.loads(DEFAULT_CLUSTER_READER_PATH.with_suffix(".json").read_text())
    assert card["version"] == "further" and card["training_clusters"] == len(texts)
    assert card["fine_tuned_from"] == committed_card
