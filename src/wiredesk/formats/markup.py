"""Body markup into paragraphs: the one walker every format reads its text with.

NITF's body.content, XHTML carried in NewsML-G2 and NewsML 1.2, and the HTML of feeds, ninjs and
dpa are told apart only by a vocabulary, which names elements (by local name, in any case):

    paragraphs   one paragraph each: p, list items, crossheads; one that holds blocks itself
                 gives its own text as paragraphs between theirs
    containers   hold paragraphs: div, NITF's block, lists
    skipped      never copy: media and their captions, scripts and styles, notes, the title and
                 header a page repeats from the metadata
    notes        the skipped elements that speak to the editors: their text is handed to the
                 caller, who keeps it from readers
    container_text
                 whether text standing in a container, outside any paragraph, is copy. In HTML it
                 is: hand-made and CMS bodies often stand in bare divs. Agencies' XML puts every
                 paragraph of copy in a paragraph element, and what stands beside them is
                 furniture: a vignette, a photo's credit, the credit under a quote.

What every vocabulary shares:

- A table gives one paragraph per row, its cells joined by " | " (CELL_SEPARATOR), its caption
  first: wire tables are results and listings, and a row is the unit a reader scans.
- `<br/>` is a line break inside a paragraph; two in a row end the paragraph, as on the page.
- An element the vocabulary does not name is inline: its text runs into the paragraph around
  it, unless it holds blocks, when it is a container.
- Without any block at all, blank lines are the writer's only paragraph breaks.

Text is kept as written but for layout. In XML copy (NITF, XHTML) a run of white space that holds
a line break is the document's layout (pretty-printing, hard wrapping) and becomes one space; tabs
and double spaces on a line are the agency's. HTML arrives as a string that a browser would show
with every run of white space as one space, and so it is read (`html_paragraphs`, with the
vocabulary's collapse_spaces).
"""

from __future__ import annotations

import dataclasses
import functools
import html
import html.entities
import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from wiredesk.formats.xml import children, name

CELL_SEPARATOR = " | "


@dataclass(frozen=True)
class Vocabulary:
    paragraphs: frozenset[str]
    containers: frozenset[str]
    skipped: frozenset[str]
    notes: frozenset[str] = frozenset()
    container_text: bool = False
    collapse_spaces: bool = False  # HTML's white space, not XML's: see the module's docstring

    @functools.cached_property
    def blocks(self) -> frozenset[str]:
        return self.paragraphs | self.containers | {"table"}


NITF = Vocabulary(
    paragraphs=frozenset({"p", "hl2", "li", "dt", "dd", "pre"}),
    containers=frozenset({"body.content", "block", "bq", "ol", "ul", "dl", "fn", "abstract"}),
    skipped=frozenset({"media", "note", "nitf-table-metadata"}),
    notes=frozenset({"note"}),
)
XHTML = Vocabulary(
    paragraphs=frozenset({"p", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "pre", "blockquote", "address"}),
    containers=frozenset(
        {
            "html",
            "body",
            "div",
            "section",
            "article",
            "aside",
            "main",
            "footer",
            "figure",
            "ul",
            "ol",
            "dl",
            "menu",
            "details",
            "fieldset",
            "form",
            "center",
            "hgroup",
            "hr",
        }
    ),
    # h1 and the header repeat the headline and the byline; a figure's caption describes a picture.
    skipped=frozenset(
        {
            "head",
            "title",
            "header",
            "h1",
            "nav",
            "figcaption",
            "summary",
            "script",
            "style",
            "noscript",
            "template",
            "iframe",
            "object",
            "embed",
            "svg",
            "math",
            "canvas",
            "video",
            "audio",
            "button",
            "select",
            "textarea",
        }
    ),
)
HTML = dataclasses.replace(XHTML, container_text=True, collapse_spaces=True)
# Markup in a headline: its h1 or title is the headline itself.
HTML_TITLE = dataclasses.replace(
    HTML, paragraphs=HTML.paragraphs | {"h1", "title"}, skipped=HTML.skipped - {"h1", "title"}
)
_METADATA = Vocabulary(frozenset(), frozenset(), frozenset())

_CELLS = frozenset({"td", "th"})
_ROW_GROUPS = frozenset({"thead", "tbody", "tfoot"})
# XML text cannot contain NUL, nor can HTML text after parsing: it marks a <br/> until paragraphs
# are cut.
_BREAK = "\x00"
_LAYOUT = re.compile(r"[ \t\r\n]*\n[ \t\r\n]*")
_XML_SPACE = " \t\r\n"
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SPACES = re.compile(r"[ \t\r\n]+")


def paragraphs(element: etree._Element | None, vocabulary: Vocabulary, notes: list[str] | None = None) -> list[str]:
    """The paragraphs of a body: the element's own text and everything inside it. The text of
    each note among its blocks is added to `notes`, when given. Without any block inside, the
    text's blank lines part paragraphs."""
    out: list[str] = []
    if element is not None and not _walk(element, vocabulary, out, vocabulary.container_text, notes):
        out.clear()
        parts: list[str] = []
        _gather(element, vocabulary, parts)
        for chunk in _BLANK_LINE.split("".join(parts)):
            out.extend(_texts(chunk, vocabulary))
    return out


def _walk(
    element: etree._Element, vocabulary: Vocabulary, out: list[str], loose_text: bool, notes: list[str] | None
) -> bool:
    """Adds the paragraphs inside a container, or inside a paragraph that holds blocks, to `out`;
    `loose_text` says whether text standing in it between the blocks is copy. Says whether there
    was any block in it."""
    # That text is gathered until a block ends it. White space before any text is the layout
    # between blocks, and is not kept. (lxml makes a new string each time text is asked for.)
    loose: list[str] = [text] if loose_text and (text := element.text) and not text.isspace() else []
    skipped, paragraphs_, containers = vocabulary.skipped, vocabulary.paragraphs, vocabulary.containers
    texts = _html_texts if vocabulary.collapse_spaces else _xml_texts
    blocks = False
    for child in children(element):
        tag = name(child.tag)
        if not tag:  # a comment, or an entity that a DTD-era document leaves undeclared
            if loose_text and isinstance(child, etree._Entity):
                loose.append(_entity(child))
        elif tag in skipped:
            if notes is not None and tag in vocabulary.notes and (note := " ".join(paragraphs(child, vocabulary))):
                notes.append(note)
        elif tag == "br":
            if loose_text:
                loose.append(_BREAK)
        elif tag == "table":
            blocks = True
            if loose:
                _flush(loose, vocabulary, out)
            _table(child, vocabulary, out)
        elif tag in paragraphs_:
            blocks = True
            if loose:
                _flush(loose, vocabulary, out)
            if not len(child):  # text only, as most paragraphs are
                if text := child.text:
                    out.extend(texts(text))
            else:
                parts: list[str] = []
                if _gather(child, vocabulary, parts):
                    _walk(child, vocabulary, out, True, notes)
                else:
                    out.extend(texts("".join(parts)))
        elif tag in containers:
            blocks = True
            if loose:
                _flush(loose, vocabulary, out)
            _walk(child, vocabulary, out, vocabulary.container_text, notes)
        elif loose_text:
            parts = []
            if _gather(child, vocabulary, parts):
                blocks = True
                if loose:
                    _flush(loose, vocabulary, out)
                _walk(child, vocabulary, out, True, notes)
            else:
                loose.extend(parts)
        elif len(child):  # an inline element around blocks: a link around a paragraph
            blocks = _walk(child, vocabulary, out, False, notes) or blocks
        if loose_text and (tail := child.tail) and (loose or not tail.isspace()):
            loose.append(tail)
    if loose:
        _flush(loose, vocabulary, out)
    return blocks


def _flush(loose: list[str], vocabulary: Vocabulary, out: list[str]) -> None:
    out.extend(_texts("".join(loose), vocabulary))
    loose.clear()


def _gather(element: etree._Element, vocabulary: Vocabulary, parts: list[str]) -> bool:
    """Adds the copy inside `element` to `parts`, and says whether a block is inside it: such an
    element is read as a container (see _walk). Finding that out on the way saves walking every
    paragraph twice; the text gathered still serves a table cell, where blocks are separated."""
    holds_blocks = False
    if text := element.text:
        parts.append(text)
    for child in children(element):
        tag = name(child.tag)
        if not tag:
            if isinstance(child, etree._Entity):
                parts.append(_entity(child))
        elif tag == "br":
            parts.append(_BREAK)
        elif tag in vocabulary.skipped:
            pass
        elif tag in vocabulary.blocks:
            holds_blocks = True
            parts.append(_BREAK)
            _gather(child, vocabulary, parts)
            parts.append(_BREAK)
        else:
            holds_blocks = _gather(child, vocabulary, parts) or holds_blocks
        if tail := child.tail:
            parts.append(tail)
    return holds_blocks


def _entity(entity: etree._Entity) -> str:
    # Only a DTD-era document can hold an undeclared entity (xml.load refuses declarations), and
    # the DTDs of news formats take their names from HTML's. Unknown names stay as written.
    written: str = entity.text  # "&name;", as the copy has it
    return html.entities.html5.get(f"{entity.name};", written)


def _table(table: etree._Element, vocabulary: Vocabulary, out: list[str]) -> None:
    for child in children(table):
        tag = name(child.tag)
        if tag == "caption":
            out.extend(paragraphs(child, vocabulary))
        elif tag == "tr":
            _row(child, vocabulary, out)
        elif tag in _ROW_GROUPS:
            for row in children(child):
                if name(row.tag) == "tr":
                    _row(row, vocabulary, out)


def _row(row: etree._Element, vocabulary: Vocabulary, out: list[str]) -> None:
    cells = []
    for cell in children(row):
        if name(cell.tag) in _CELLS:
            if len(cell):
                parts: list[str] = []
                _gather(cell, vocabulary, parts)
                text = "".join(parts)
            else:  # text only, as most cells are
                text = cell.text or ""
            # A row is one line: paragraphs and line breaks in a cell become spaces.
            cells.append(" ".join(_texts(text, vocabulary)).replace("\n", " "))
    if any(cells):
        out.append(CELL_SEPARATOR.join(cells))


def _texts(text: str, vocabulary: Vocabulary) -> list[str]:
    """The paragraphs of gathered text: usually one, more where two breaks in a row part it. A
    single break is a line break, without the spaces and tabs around it."""
    return _html_texts(text) if vocabulary.collapse_spaces else _xml_texts(text)


# Two functions, not one with a flag: the walker picks one for a container and calls it for nearly
# every paragraph.
def _xml_texts(text: str) -> list[str]:
    # Long lines without a line break are common, and the pattern is slow to search them.
    if "\n" in text:
        text = _LAYOUT.sub(" ", text)
    if _BREAK not in text:
        return [text] if (text := text.strip(_XML_SPACE)) else []
    return _at_breaks(text, _XML_SPACE)


def _html_texts(text: str) -> list[str]:
    text = _HTML_SPACE.sub(" ", text)
    # str.strip's default: every kind of white space, as a browser trims it.
    if _BREAK not in text:
        return [text] if (text := text.strip()) else []
    return _at_breaks(text, None)


def _at_breaks(text: str, spaces: str | None) -> list[str]:
    texts: list[list[str]] = []
    lines: list[str] = []
    for piece in text.split(_BREAK):
        if line := piece.strip(" \t"):
            lines.append(line)
        else:
            # Two breaks in a row; at the start or the end, a break that would be stripped anyway.
            texts.append(lines)
            lines = []
    texts.append(lines)
    return [paragraph for lines in texts if (paragraph := "\n".join(lines).strip(spaces))]


def inline_text(element: etree._Element | None) -> str | None:
    """All the text of a metadata element on one line, entities read, or None."""
    if element is None:
        return None
    if not len(element):
        return clean(element.text)
    parts: list[str] = []
    _gather(element, _METADATA, parts)
    return clean("".join(parts).replace(_BREAK, " "))


def clean(value: str | None) -> str | None:
    """Metadata text on one line: white space runs become one space."""
    if not value:
        return None
    # Most metadata has nothing to replace, which these scans tell far faster than the pattern.
    if "  " in value or "\n" in value or "\t" in value or "\r" in value:
        value = _SPACES.sub(" ", value)
    return value.strip() or None


# --- HTML in a string -----------------------------------------------------------------------

# HTML reads "&not" in "Salt&nothing" as "¬": an ampersand that does not open a complete entity
# is a plain ampersand, the one thing agencies mean by it.
_BARE_AMPERSAND = re.compile(r"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
# Only entities with their semicolon: html.unescape alone would read "Salt&nothing" as "Salt¬hing".
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_TAG = re.compile(r"<(?:[A-Za-z][\w:\-]*|/[A-Za-z][\w:\-]*)(?:\s[^<>]*)?/?>")


def holds_markup(text: str) -> bool:
    """Whether text holds HTML tags: markup escaped once more than its container needed."""
    return _TAG.search(text) is not None


def html_paragraphs(value: str, *, keep_titles: bool = False) -> list[str]:
    """The paragraphs of an HTML fragment or page, entities decoded, even when escaped twice.
    Nothing is fetched. With keep_titles, an h1 or title is text (markup in a headline)."""
    if not value.strip():
        return []
    root = _html(value)
    if root is not None and len(root) == 0 and holds_markup(root.text or ""):
        # Markup escaped twice: after one round of decoding it is still markup.
        root = _html(root.text or "")
    return [unescape(text) for text in paragraphs(root, HTML_TITLE if keep_titles else HTML)]


def _html(value: str) -> etree._Element | None:
    value = _BARE_AMPERSAND.sub("&amp;", value)
    try:
        fragment: etree._Element = lxml.html.fragment_fromstring(value, create_parent="div")
        return fragment
    except (etree.ParserError, ValueError, AssertionError):
        # The fragment parser gives up on some broken pages ("too many bodies"); the page
        # parser takes them.
        try:
            page: etree._Element = lxml.html.document_fromstring(value)
            return page
        except (etree.ParserError, ValueError):
            return None


def unescape(text: str) -> str:
    """Entities still in text that has been decoded once: text escaped twice, decoded again."""
    return _ENTITY.sub(_unescaped, text) if "&" in text else text


def _unescaped(match: re.Match[str]) -> str:
    return html.unescape(match.group())
