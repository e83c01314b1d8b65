"""Errors shared by the model-file modules (pure Python)."""


class ModelFileError(ValueError):
    """A model directory or file that cannot be loaded as asked."""
