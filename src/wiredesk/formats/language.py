"""Language tags (BCP 47, RFC 5646): what a story's `language` must be, as pages write it into
`lang` and `xml:lang` attributes as it is.

A tag is read by RFC 5646's grammar (its section 2.1), not looked up in IANA's registry: a
well-formed tag the registry does not know yet does no harm in an attribute, and a copy of the
registry would need keeping up to date. One rule is tighter than the grammar: the language subtag
has two or three letters. The grammar also allows four (reserved) and five to eight (none ever
registered), which would make "english", as feeds write it, a tag.

The grammar is written out here rather than taken from a library: langcodes' parser accepts what
it does not ("en_US", a language subtag of digits) and recurses once per subtag, so that a long
tag exhausts the stack; Babel reads CLDR locale identifiers, not BCP 47 tags.
"""

from __future__ import annotations

import re

# RFC 5646, section 2.1, subtag by subtag.
_LANGTAG = (
    r"[a-z]{2,3}(?:-[a-z]{3}){0,3}"  # language, with up to three extlangs
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions: a singleton other than x, then subtags
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
)
_PRIVATE_USE = r"x(?:-[a-z0-9]{1,8})+"
# The grandfathered tags the grammar above cannot read; the regular ones it can.
_IRREGULAR = (
    "en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|i-tao"
    "|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de"
)
# ASCII: without it, IGNORECASE lets the Kelvin sign stand for a "k".
_TAG = re.compile(f"{_LANGTAG}|{_PRIVATE_USE}|{_IRREGULAR}", re.IGNORECASE | re.ASCII)


def tag(value: object) -> str | None:
    """`value` as a well-formed language tag in the case RFC 5646 recommends ("EN-gb" is
    "en-GB", "zh-hant-tw" is "zh-Hant-TW"), or None when it is not one."""
    if not isinstance(value, str) or not _TAG.fullmatch(value := value.strip()):
        return None
    subtags = value.lower().split("-")
    # Section 2.1.1: regions in capitals, scripts in title case; everything after a singleton
    # (an extension, private use, "i-") stays in lower case.
    for number in range(1, len(subtags)):
        if len(subtags[number - 1]) == 1:
            break
        subtag = subtags[number]
        if len(subtag) == 2:
            subtags[number] = subtag.upper()
        elif len(subtag) == 4 and subtag.isalpha():
            subtags[number] = subtag.title()
    return "-".join(subtags)
