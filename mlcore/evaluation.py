"""Accuracy, per-class precision and recall, confusion matrix, and pictures of the mistakes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlcore.data import DigitSet

EVAL_BATCH_SIZE = 1000


@dataclass(frozen=True)
class EvaluationReport:
    labels: np.ndarray  # (N,) true digits
    probabilities: np.ndarray  # (N, 10)

    @property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def accuracy(self) -> float:
        return float((self.predictions == self.labels).mean())

    @property
    def confusion(self) -> np.ndarray:
        """confusion[true, predicted] counts."""
        matrix = np.zeros((10, 10), dtype=np.int64)
        np.add.at(matrix, (self.labels, self.predictions), 1)
        return matrix

    @property
    def recall(self) -> list[float]:
        m = self.confusion
        return [float(m[d, d] / max(m[d].sum(), 1)) for d in range(10)]

    @property
    def precision(self) -> list[float]:
        m = self.confusion
        return [float(m[d, d] / max(m[:, d].sum(), 1)) for d in range(10)]

    def worst_mistakes(self, count: int) -> np.ndarray:
        """Indices of wrong answers, the most confident first."""
        wrong = np.flatnonzero(self.predictions != self.labels)
        confidence = self.probabilities[wrong].max(axis=1)
        return wrong[np.argsort(-confidence)][:count]

    def as_dict(self) -> dict:
        return {
            "images": int(len(self.labels)),
            "accuracy": round(self.accuracy, 5),
            "errors": int((self.predictions != self.labels).sum()),
            "precision": [round(p, 5) for p in self.precision],
            "recall": [round(r, 5) for r in self.recall],
            "confusion_matrix": self.confusion.tolist(),
        }


def evaluate_model(model, data: DigitSet) -> EvaluationReport:
    """Runs the Keras model in large batches (no `predict()`), returns the report."""
    images = (data.images.astype(np.float32) / 255.0)[..., np.newaxis]
    outputs = [
        np.asarray(model(images[i : i + EVAL_BATCH_SIZE], training=False))
        for i in range(0, len(images), EVAL_BATCH_SIZE)
    ]
    # A model with an 11th "not one digit" output is judged, as the product reads, by its likeliest digit.
    probabilities = np.concatenate(outputs)[:, :10]
    return EvaluationReport(labels=data.labels.astype(np.int64), probabilities=probabilities)


def format_report(report: EvaluationReport) -> str:
    lines = [
        f"Test accuracy: {report.accuracy * 100:.2f}% "
        f"({int((report.predictions == report.labels).sum())}/{len(report.labels)})",
        "",
        "digit  precision  recall",
    ]
    for d in range(10):
        lines.append(f"{d:>5}  {report.precision[d] * 100:8.2f}%  {report.recall[d] * 100:6.2f}%")
    lines += [
        "",
        "Confusion matrix (rows: true digit, columns: predicted)",
        "     " + "".join(f"{d:>6}" for d in range(10)),
    ]
    for d, row in enumerate(report.confusion):
        lines.append(f"{d:>5}" + "".join(f"{n:>6}" for n in row))
    return "\n".join(lines)


def save_confusion_png(report: EvaluationReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    matrix = report.confusion
    fig, ax = plt.subplots(figsize=(7, 6))
    # Log scale so that the few mistakes are visible beside the ~1000 correct answers per digit.
    image = ax.imshow(np.log1p(matrix), cmap="Blues")
    for t in range(10):
        for p in range(10):
            if matrix[t, p]:
                colour = "white" if t == p else "black"
                ax.text(p, t, str(matrix[t, p]), ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"Confusion matrix, accuracy {report.accuracy * 100:.2f}%")
    fig.colorbar(image, ax=ax, label="log(1 + count)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_mistakes_png(report: EvaluationReport, images: np.ndarray, path: Path, count: int = 36) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    worst = report.worst_mistakes(count)
    columns = 6
    rows = max(1, int(np.ceil(len(worst) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.6, rows * 1.9))
    for ax in np.atleast_1d(axes).ravel():
        ax.axis("off")
    for ax, index in zip(np.atleast_1d(axes).ravel(), worst, strict=False):
        ax.imshow(images[index], cmap="gray")
        ax.set_title(
            f"true {report.labels[index]}, said {report.predictions[index]}\n"
            f"{report.probabilities[index].max() * 100:.0f}%",
            fontsize=8,
        )
    fig.suptitle("Most confident mistakes")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
