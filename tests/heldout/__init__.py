"""A held-out generator of pictures of handwritten digits and numbers, and the scores the reader gets on it.

Kept apart from every other picture generator in the repository: whoever tunes the reading engine
does not look here, so that these pictures measure it honestly. Only MNIST *test* digits are drawn.
"""
