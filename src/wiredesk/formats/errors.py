class FormatError(ValueError):
    """The bytes cannot be read as a story. The message is the reason, written for an operator.

    It is kept to one printable line whatever the bytes it quotes hold (a line break in an
    attribute, an unpaired surrogate or a NUL from JSON): it goes to a log line, a terminal and
    the quarantine's record, all of which take UTF-8 text, and PostgreSQL's text no NUL.
    """

    def __init__(self, reason: str):
        reason = " ".join(reason.replace("\x00", "").split())
        super().__init__(reason.encode("utf-8", "backslashreplace").decode("utf-8"))
