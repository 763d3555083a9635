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
_ENTITIES_REFUSED = (
    "the XML declares entities (a DOCTYPE with <!ENTITY>), which is refused: "
    "news copy never needs them and they are how entity-expansion attacks work"
)
_POSITION = re.compile(r", line \d+, column \d+$")
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


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
        # libxml2's message may quote the document, line breaks and all, and ends with the
        # position this one starts with.
        message = " ".join(_POSITION.sub("", exc.msg).split())
        raise FormatError(f"malformed XML at line {line}, column {column}: {message}") from None
    if root is None:
        raise FormatError("the XML has no root element")
    # The byte scan above cannot see declarations in UTF-16 or UTF-32; the parsed DTD can.
    dtd = root.getroottree().docinfo.internalDTD
    # lxml-stubs 0.5.1 has no DTD.iterentities.
    if dtd is not None and any(True for _ in dtd.iterentities()):  # type: ignore[union-attr]
        raise FormatError(_ENTITIES_REFUSED)
    return root


@functools.lru_cache(maxsize=1024)
def local(tag: object) -> str:
    """The tag's name without its namespace: NITF comes with and without one."""
    # Asked for every element read, of a vocabulary of a few dozen names: the cache halves the cost.
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


@functools.lru_cache(maxsize=1024)
def name(tag: object) -> str:
    """The tag's local name in lower case, which elements are matched by: agencies' files do not
    always keep the standard's case (<Header>, <ItemMeta>)."""
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""


class Children:
    """An element's child elements by name (see `name`: callers ask in lower case), read in one
    pass.

    Each lxml lookup costs about a microsecond however few children there are, which is most
    of the time spent reading a small document: a parent asked for many of its children
    (docdata, itemMeta, contentMeta) is read once instead.
    """

    __slots__ = ("element", "_named")

    def __init__(self, element: etree._Element | None):
        self.element = element
        self._named: dict[str, list[etree._Element]] = {}
        named = self._named
        for child in children(element) if element is not None else ():
            if key := name(child.tag):  # entities have no name
                named.setdefault(key, []).append(child)

    def first(self, wanted: str) -> etree._Element | None:
        found = self._named.get(wanted)
        return found[0] if found else None

    def every(self, wanted: str) -> list[etree._Element]:
        return self._named.get(wanted, [])


def first(element: etree._Element | None, wanted: str) -> etree._Element | None:
    """The first child element called `wanted` (in lower case), in any namespace or none."""
    if element is not None:
        for child in children(element):
            if name(child.tag) == wanted:
                return child
    return None


def every(element: etree._Element | None, wanted: str) -> list[etree._Element]:
    """Every child element called `wanted` (in lower case), in any namespace or none."""
    if element is None:
        return []
    # The parents asked hold few children, mostly the ones wanted: looking at each in Python is
    # quicker than setting up lxml's matching iterator, which costs about a microsecond.
    return [child for child in children(element) if name(child.tag) == wanted]


def children(element: etree._Element) -> list[etree._Element]:
    """The element's children (elements, comments, entities) as a list, in one call into lxml:
    iterchildren() costs about as much per child."""
    return element[:]  # type: ignore[index,return-value]  # lxml-stubs 0.5.1 types indexing by int only
