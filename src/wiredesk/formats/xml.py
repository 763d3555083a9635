"""Reading XML from outside safely: no network, no DTD, no entity expansion, bounded depth.

Agency XML is untrusted input. Billion-laughs and external-entity documents are refused before
libxml2 sees them, by the same rule that is cheapest to check: a document that declares entities
is not news copy.
"""

from __future__ import annotations

import re

from lxml import etree

from wiredesk.formats.errors import FormatError

# libxml2 refuses deeper nesting than this by itself unless huge_tree is set; we say it first.
MAX_DEPTH = 256
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ENTITIES_REFUSED = ("the XML declares entities (a DOCTYPE with <!ENTITY>), which is refused: "
                     "news copy never needs them and they are how entity-expansion attacks work")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_comments=True, remove_pis=True)


def load(data: bytes) -> etree._Element:
    """The document's root element, or FormatError saying what is wrong and where."""
    if _ENTITY_DECLARATION.search(data[:65536]):
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


def local(tag) -> str:
    """The tag's name without its namespace: NITF comes with and without one."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def text(element: etree._Element | None) -> str | None:
    """All the text inside an element, with white space as written, or None."""
    if element is None:
        return None
    value = "".join(element.itertext())
    return value if value.strip() else None
