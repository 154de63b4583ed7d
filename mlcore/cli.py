"""Argument parsing for `python -m mlcore`; each command calls one function of the package."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlcore.paths import DEFAULT_CLUSTER_READER_PATH, DEFAULT_MODEL_PATH
from mlcore.retrain import RetrainConfig  # no TensorFlow at import


def _train(args: argparse.Namespace) -> int:
    from mlcore.train import TrainingConfig, train

    config = TrainingConfig(
        epochs=args.epochs,
        version=args.version or "",
        extra=tuple(args.extra),
        fine_tune=str(args.fine_tune or ""),
        learning_rate=args.learning_rate,
        mnist_repeat=args.mnist_repeat,
    )
    card = train(config, out_path=args.model)
    print(json.dumps(card, indent=2))
    return 0


def _combine(args: argparse.Namespace) -> int:
    from mlcore.train import combine

    card = combine(args.members, out_path=args.out, version=args.version)
    print(json.dumps(card, indent=2))
    return 0


def _synthesize(args: argparse.Namespace) -> int:
    import numpy as np

    from mlcore.data import load_mnist
    from mlcore.training_data import build_extra_training_set

    extra = build_extra_training_set(
        load_mnist().train,
        rendered=args.rendered,
        numbers=args.numbers,
        others=args.others,
        non_digits=args.non_digits,
        seed=args.seed,
    )
    np.savez_compressed(args.out, x_train=extra.images, y_train=extra.labels)
    counts = np.bincount(extra.labels, minlength=11)
    print(f"Wrote {len(extra)} examples to {args.out}: per class {counts.tolist()} (10 = not one digit)")
    return 0


def _synthesize_clusters(args: argparse.Namespace) -> int:
    from collections import Counter

    from mlcore.data import load_mnist
    from mlcore.sequence import save_sequence_set
    from mlcore.training_data import build_sequence_set

    inputs, texts = build_sequence_set(
        load_mnist().train, numbers=args.numbers, non_digits=args.non_digits, seed=args.seed
    )
    save_sequence_set(args.out, inputs, texts)
    lengths = sorted(Counter(len(text) for text in texts).items())
    print(f"Wrote {len(texts)} clusters to {args.out}: per number of digits {lengths}")
    return 0


def _train_cluster_reader(args: argparse.Namespace) -> int:
    from mlcore.sequence import load_sequence_set, save_sequence_reader, train_sequence_reader

    inputs, texts = [], []
    for path in args.data:
        more_inputs, more_texts = load_sequence_set(path)
        inputs, texts = inputs + more_inputs, texts + more_texts
    validation = load_sequence_set(args.validation) if args.validation else None
    initial, initial_card = None, None
    if args.initial:
        from mlcore.inference import load_keras_model, read_model_card

        initial = load_keras_model(args.initial)
        initial_card = read_model_card(args.initial) or {"path": str(args.initial)}
    model = train_sequence_reader(
        inputs, texts, epochs=args.epochs, learning_rate=args.learning_rate, validation=validation, initial=initial
    )
    card = save_sequence_reader(
        model, args.out, version=args.version, examples=len(texts), fine_tuned_from=initial_card
    )
    print(json.dumps(card, indent=2))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from mlcore.data import load_mnist
    from mlcore.evaluation import evaluate_model, format_report, save_confusion_png, save_mistakes_png
    from mlcore.inference import load_keras_model

    test = load_mnist().test
    report = evaluate_model(load_keras_model(args.model), test)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    confusion_png = args.out_dir / "confusion_matrix.png"
    mistakes_png = args.out_dir / "worst_mistakes.png"
    save_confusion_png(report, confusion_png)
    save_mistakes_png(report, test.images, mistakes_png)
    if args.json:
        print(json.dumps({**report.as_dict(), "confusion_png": str(confusion_png), "mistakes_png": str(mistakes_png)}))
    else:
        print(format_report(report))
        print(f"\nWrote {confusion_png} and {mistakes_png}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from mlcore.inference import DigitClassifier

    classifier = DigitClassifier.load(args.model)
    results = classifier.predict_files(args.files)
    for result in results:
        if args.json:
            print(json.dumps(result.as_dict()))
        elif result.error:
            print(f"{result.file}: error: {result.error}")
        elif not result.reading.found:
            print(f"{result.file}: no digit found")
        else:
            reading = result.reading
            note = " (? marks a piece that could not be read)" if reading.flagged else ""
            print(f"{result.file}: {reading.digits} ({reading.confidence * 100:.1f}%){note}")
    return 1 if any(r.error for r in results) else 0


def _bench(args: argparse.Namespace) -> int:
    from mlcore.bench import run_benchmarks

    run_benchmarks(args.model, json_output=args.json)
    return 0


RETRAIN_DEFAULTS = RetrainConfig()


def _retrain_bench(args: argparse.Namespace) -> int:
    from mlcore.retrain import fine_tuning_bench

    config = RetrainConfig(
        epochs=args.epochs, learning_rate=args.learning_rate, corrections_repeat=args.corrections_repeat
    )
    result = fine_tuning_bench(args.model, corrections=args.corrections, pen=args.pen, config=config)
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"Fine-tuning on {result['correction_digits']} corrected digits ({result['labelled_pictures']} labelled "
        f"{result['pen']} pictures): {result['fine_tuning_seconds']} s"
    )
    for name in ("pictures", "mnist_test"):
        print(f"  {name}: {result['before'][name]:.2%} before, {result['after'][name]:.2%} after")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcore", description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="the .keras model file")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train the CNN on MNIST and write the model and its card")
    train.add_argument("--epochs", type=int, default=15)
    train.add_argument("--version", help="model version for the card (default: the date)")
    train.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="FILE.npz",
        help="extra labelled images in MNIST's npz layout (x_train, y_train); repeatable",
    )
    train.add_argument("--fine-tune", type=Path, metavar="MODEL", help="start from this trained model")
    train.add_argument("--learning-rate", type=float, default=2e-3)
    train.add_argument("--mnist-repeat", type=int, default=1, help="MNIST's images this many times per epoch")
    train.set_defaults(handler=_train)

    combine = commands.add_parser(
        "combine", help="one model file from several: MNIST's best digit reader and readers of real pictures"
    )
    combine.add_argument(
        "members", type=Path, nargs="+", help="the model trained on MNIST alone, then the fine-tuned 11-class readers"
    )
    combine.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    combine.add_argument("--version", required=True)
    combine.set_defaults(handler=_combine)

    synthesize = commands.add_parser(
        "synthesize", help="training examples from MNIST training digits drawn as pictures (mlcore.training_data)"
    )
    synthesize.add_argument("--out", type=Path, required=True, metavar="FILE.npz")
    synthesize.add_argument("--rendered", type=int, default=20000, help="digits drawn as photos, scans, canvas")
    synthesize.add_argument("--numbers", type=int, default=3000, help="numbers whose candidate digits are kept")
    synthesize.add_argument("--others", type=int, default=8000, help="fragments, pairs, letters, scribbles")
    synthesize.add_argument("--non-digits", type=int, default=2000, help="pictures with no digit, cut as numbers")
    synthesize.add_argument("--seed", type=int, default=0)
    synthesize.set_defaults(handler=_synthesize)

    clusters = commands.add_parser(
        "synthesize-clusters",
        help="touching numbers from MNIST training digits drawn as pictures: each cluster of ink and its digits",
    )
    clusters.add_argument("--out", type=Path, required=True, metavar="FILE.npz")
    clusters.add_argument("--numbers", type=int, default=24000, help="numbers drawn (most of them touching)")
    clusters.add_argument("--non-digits", type=int, default=3000, help="pictures with no digit (their wide clusters)")
    clusters.add_argument("--seed", type=int, default=0)
    clusters.set_defaults(handler=_synthesize_clusters)

    cluster_reader = commands.add_parser(
        "train-cluster-reader", help="train the reader of touching digits (mlcore.sequence) on synthesized clusters"
    )
    cluster_reader.add_argument("--data", type=Path, action="append", required=True, metavar="FILE.npz")
    cluster_reader.add_argument("--validation", type=Path, metavar="FILE.npz")
    cluster_reader.add_argument("--out", type=Path, default=DEFAULT_CLUSTER_READER_PATH)
    cluster_reader.add_argument("--epochs", type=int, default=12)
    cluster_reader.add_argument("--version", required=True)
    cluster_reader.add_argument(
        "--initial", type=Path, metavar="FILE.keras", help="train this reader further instead of a new one"
    )
    cluster_reader.add_argument("--learning-rate", type=float, default=2e-3)
    cluster_reader.set_defaults(handler=_train_cluster_reader)

    evaluate = commands.add_parser(
        "evaluate", help="accuracy, per-class figures and confusion matrix on MNIST's test set"
    )
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--out-dir", type=Path, default=Path("reports"), help="where the PNGs go")
    evaluate.set_defaults(handler=_evaluate)

    predict = commands.add_parser("predict", help="the number (or digit) in each picture file")
    predict.add_argument("--json", action="store_true", help="one JSON object per line")
    predict.add_argument("files", nargs="+")
    predict.set_defaults(handler=_predict)

    bench = commands.add_parser("bench", help="model load, preprocessing and inference timings")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(handler=_bench)

    retrain_bench = commands.add_parser(
        "retrain-bench", help="fine-tune on corrections of one kind of picture; its accuracy before and after"
    )
    retrain_bench.add_argument("--corrections", type=int, default=1000)
    retrain_bench.add_argument("--pen", default="thin_faint")
    retrain_bench.add_argument("--epochs", type=int, default=RETRAIN_DEFAULTS.epochs)
    retrain_bench.add_argument("--learning-rate", type=float, default=RETRAIN_DEFAULTS.learning_rate)
    retrain_bench.add_argument("--corrections-repeat", type=int, default=RETRAIN_DEFAULTS.corrections_repeat)
    retrain_bench.add_argument("--json", action="store_true")
    retrain_bench.set_defaults(handler=_retrain_bench)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
