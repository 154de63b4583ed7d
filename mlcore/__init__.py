"""Handwritten digit recognition core: data, preprocessing, model, training, inference.

This package never imports Django, Celery or a database, so it can be trained, evaluated
and benchmarked from the command line (`python -m mlcore ...`). TensorFlow is imported
lazily, only by the modules that build, train or run the model.
"""
