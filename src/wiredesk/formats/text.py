"""Turning undeclared bytes into text, the way agency text arrives: mostly UTF-8, often not."""

import codecs
import re

import charset_normalizer

from wiredesk.formats.errors import FormatError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Controls that never occur in text. Wire control codes (SOH, STX, ETX...) are the 7901 and ANPA
# formats' business; the plain copy refuses them rather than print them.
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1c-\x1f\x7f]")
_NOT_TEXT = "binary data, not text: control bytes where a story has letters"


def decode(data: bytes) -> str:
    text = _decoded(data)
    # NUL is never text, and PostgreSQL's text refuses it: it is looked for all through (a quick
    # scan), the other control bytes only at the top, where binary data shows them at once.
    if "\x00" in text:
        raise FormatError(_NOT_TEXT)
    return text


def _decoded(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise FormatError(f"the byte-order mark says {encoding}, but byte {exc.start} is not") from None
    if _BINARY.search(data, 0, 4096):
        raise FormatError(_NOT_TEXT)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=["cp1252", "latin_1", "iso8859_15"]).best()
    if best is None:
        raise FormatError("the text encoding cannot be determined")
    return str(best)


def unix_newlines(text: str) -> str:
    """CRLF and lone CR line ends as LF."""
    # Looking for one character is much cheaper than replacing a pair, and most text has no CR.
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def without(text: str, character: str) -> str:
    # Looking for one character is much cheaper than replacing it, and most text has none.
    return text.replace(character, "") if character in text else text


# UTF-8 read as CP1252 and sent on as UTF-8 ("worldâ€™s", "GrÃ¼ne"): a UTF-8 lead byte and its
# continuation bytes, as CP1252 shows them (its five undefined bytes show as the C1 controls they
# are in Latin-1). Only the leads of Latin-1 letters (Â, Ã) and of punctuation and € (â) are
# taken: other leads are letters too, and "Straße»" or "Ö°" must stay as they are.
_UNDEFINED = "\x81\x8d\x8f\x90\x9d"
_CONTINUATION = "[" + re.escape(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore") + _UNDEFINED) + "]"
_MOJIBAKE = re.compile(f"[ÂÃ]{_CONTINUATION}|â{_CONTINUATION}{{2}}")


def repair_mojibake(text: str) -> str:
    # The regex tries every position of the text; looking for its three leads first is much cheaper,
    # and most text has none.
    if "Â" not in text and "Ã" not in text and "â" not in text:
        return text

    def back(m: re.Match[str]) -> str:
        try:
            raw = b"".join(c.encode("latin-1") if c in _UNDEFINED else c.encode("cp1252") for c in m.group())
            return raw.decode("utf-8")
        except UnicodeError:
            return m.group()

    return _MOJIBAKE.sub(back, text)
