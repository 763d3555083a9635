class FormatError(ValueError):
    """The bytes cannot be read as a story. The message is the reason, written for an operator."""
