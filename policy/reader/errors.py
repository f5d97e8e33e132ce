"""The reader's one error: the model cannot be used in this process."""


class ReaderUnavailable(RuntimeError):
    """The model reader cannot run here (artefact missing or changed, runtime not installed,
    heads made for another embedder). Callers fall back to the rules' verdict and say so."""
