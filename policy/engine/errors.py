"""Errors raised while validating or compiling a rule-set document."""


class RuleSetError(ValueError):
    """A rule-set document is invalid.

    ``path`` locates the offending value inside the document in a dotted/indexed form
    (``rules[3].pattern``); ``message`` says what is wrong with it.  ``str(err)`` gives
    ``"rules[3].pattern: unbalanced parenthesis at position 7"`` so a policy admin can find it.
    """

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)
