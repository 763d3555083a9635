"""Reading XML from outside safely: no network, no DTD, no entity expansion, bounded depth.

Agency XML is untrusted input. Billion-laughs and external-entity documents are refused before
libxml2 sees them, by the same rule that is cheapest to check: a document that declares entities
is not news copy.
"""

from __future__ import annotations

import functools
import re

from lxml import etree

from wiredesk.formats.errors import FormatError

# libxml2 refuses deeper nesting than this by itself unless huge_tree is set; we say it first.
MAX_DEPTH = 256
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_SCANNED = 65536  # bytes: a DOCTYPE sits at the top, and scanning a whole large file costs
_ENTITIES_REFUSED = ("the XML declares entities (a DOCTYPE with <!ENTITY>), which is refused: "
                     "news copy never needs them and they are how entity-expansion attacks work")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_comments=True, remove_pis=True)


def load(data: bytes) -> etree._Element:
    """The document's root element, or FormatError saying what is wrong and where."""
    # Most copy has no "!" at all, and finding the first one is a memchr: the pattern, much
    # slower to search for, is looked for only from there on.
    bang = data.find(b"!", 0, _SCANNED)
    if bang != -1 and _ENTITY_DECLARATION.search(data, max(bang - 1, 0), _SCANNED):
        raise FormatError(_ENTITIES_REFUSED)
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        raise FormatError(f"malformed XML at line {line}, column {column}: {exc.msg}") from None
    if root is None:
        raise FormatError("the XML has no root element")
    # The byte scan above cannot see declarations in UTF-16 or UTF-32; the parsed DTD can.
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise FormatError(_ENTITIES_REFUSED)
    return root


@functools.lru_cache(maxsize=1024)
def local(tag) -> str:
    """The tag's name without its namespace: NITF comes with and without one."""
    # Asked for every element read, of a vocabulary of a few dozen names: the cache halves the cost.
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


class Children:
    """An element's child elements by local name, read in one pass.

    Each lxml lookup costs about a microsecond however few children there are, which is most
    of the time spent reading a small document: a parent asked for many of its children
    (docdata, itemMeta, contentMeta) is read once instead.
    """

    __slots__ = ("element", "_named")

    def __init__(self, element: etree._Element | None):
        self.element = element
        self._named = named = {}
        # A slice is one call into lxml; iterchildren() costs about as much per child.
        for child in element[:] if element is not None else ():
            if name := local(child.tag):  # entities have no name
                named.setdefault(name, []).append(child)

    def first(self, name: str) -> etree._Element | None:
        found = self._named.get(name)
        return found[0] if found else None

    def every(self, name: str) -> list[etree._Element]:
        return self._named.get(name, [])


def text(element: etree._Element | None) -> str | None:
    """All the text inside an element, with white space as written, or None."""
    if element is None:
        return None
    value = "".join(element.itertext())
    return value if value.strip() else None
