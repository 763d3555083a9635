"""The one walker every format reads its body markup with (formats/markup.py): NITF, XHTML and
HTML, each described by a vocabulary of element names. Pure Python: no Django, no database."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from wiredesk.formats import Context, dpa_digitalwires, feed, markup, newsml1, newsml_g2, ninjs, nitf, xml

CONTEXT = Context(source="hp", received=dt.datetime(2026, 5, 3, 12, 0, tzinfo=dt.UTC))

# One body in markup every vocabulary shares: emphasis, a line break, a double break, a list and
# a table.
BODY = (
    "<p>Ferries run <em>twice</em> a day.</p><p>Timetable:<br/>06:00<br/>18:00</p>"
    "<p>Tickets on board.<br/><br/>Cash only.</p><ul><li>Adults 4.50</li><li>Children free</li></ul>"
    "<table><tr><th>Day</th><th>Boats</th></tr><tr><td>Sunday</td><td>1</td></tr></table>"
)
PARAGRAPHS = [
    "Ferries run twice a day.",
    "Timetable:\n06:00\n18:00",
    "Tickets on board.",
    "Cash only.",
    "Adults 4.50",
    "Children free",
    "Day | Boats",
    "Sunday | 1",
]


def _nitf(body: str) -> bytes:
    return (
        f"<nitf><body><body.head><hedline><hl1>Ferries</hl1></hedline></body.head>"
        f"<body.content>{body}</body.content></body></nitf>"
    ).encode()


def _g2(body: str) -> bytes:
    return (
        f'<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:x:1"><contentMeta>'
        f"<headline>Ferries</headline></contentMeta><contentSet><inlineXML>"
        f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>'
        f"</inlineXML></contentSet></newsItem>"
    ).encode()


def _newsml1(body: str) -> bytes:
    return (
        "<NewsML><NewsItem><Identification><NewsIdentifier><ProviderId>hp.example</ProviderId>"
        "<DateId>20260503</DateId><NewsItemId>X1</NewsItemId><RevisionId>1</RevisionId></NewsIdentifier>"
        '</Identification><NewsManagement><Status FormalName="Usable"/></NewsManagement><NewsComponent>'
        f"<NewsLines><HeadLine>Ferries</HeadLine></NewsLines><ContentItem><DataContent>{_nitf(body).decode()}"
        "</DataContent></ContentItem></NewsComponent></NewsItem></NewsML>"
    ).encode()


def _rss(body: str) -> bytes:
    return (
        f'<rss version="2.0"><channel><item><guid>urn:x:1</guid><title>Ferries</title>'
        f"<description><![CDATA[{body}]]></description></item></channel></rss>"
    ).encode()


def _ninjs(body: str) -> bytes:
    return json.dumps(
        {"uri": "urn:x:1", "headlines": [{"value": "Ferries"}], "bodies": [{"contenttype": "text/html", "value": body}]}
    ).encode()


def _dpa(body: str) -> bytes:
    return json.dumps({"urn": "urn:x:1", "headline": "Ferries", "article_html": body}).encode()


@pytest.mark.parametrize(
    ("module", "wrap"),
    [
        (nitf, _nitf),
        (newsml_g2, _g2),
        (newsml1, _newsml1),
        (feed, _rss),
        (ninjs, _ninjs),
        (dpa_digitalwires, _dpa),
    ],
    ids=["nitf", "newsml-g2", "newsml1", "feed", "ninjs", "dpa-digitalwires"],
)
def test_every_format_reads_the_same_markup_into_the_same_paragraphs(module, wrap):
    assert module.parse(wrap(BODY), CONTEXT)[0].paragraphs == PARAGRAPHS


def test_in_html_text_standing_between_blocks_is_a_paragraph_of_its_own():
    assert markup.html_paragraphs("<div>Before<p>One</p> between <em>two</em> <p>Two</p>after</div>") == [
        "Before",
        "One",
        "between two",
        "Two",
        "after",
    ]


def test_in_agency_xml_text_standing_in_a_container_is_furniture():
    root = xml.load(b'<div><div class="vignette"><span>Music</span><span>HPW</span></div><p>One</p></div>')
    assert markup.paragraphs(root, markup.XHTML) == ["One"]


def test_a_paragraph_holding_blocks_keeps_its_own_text_between_them():
    root = xml.load(
        b"<body.content><p>Results:<table><tr><td>1</td><td>Gulls</td></tr></table></p>"
        b"<ul><li>Sunday<ul><li>Harbour swim</li></ul></li></ul></body.content>"
    )
    assert markup.paragraphs(root, markup.NITF) == ["Results:", "1 | Gulls", "Sunday", "Harbour swim"]


def test_without_any_block_blank_lines_part_paragraphs():
    root = xml.load(b"<DataContent>First line\n  runs on.\n\nSecond.</DataContent>")
    assert markup.paragraphs(root, markup.XHTML) == ["First line runs on.", "Second."]


def test_what_each_vocabulary_skips():
    nitf_body = xml.load(
        b"<body.content><p>Copy.</p><media><media-caption>Caption</media-caption></media>"
        b"<note><p>Note</p></note><bq><block><p>Quote.</p></block><credit>Credit</credit></bq>"
        b"</body.content>"
    )
    assert markup.paragraphs(nitf_body, markup.NITF) == ["Copy.", "Quote."]
    assert markup.html_paragraphs(
        "<header><h1>Title</h1><p>By A. Writer</p></header><p>Copy.</p>"
        "<script>x()</script><style>p {}</style><figure><img src='a.jpg'>"
        "<figcaption>Caption</figcaption></figure><nav>Menu</nav>"
    ) == ["Copy."]


def test_html_collapses_white_space_as_a_browser_does_and_xml_keeps_what_is_on_one_line():
    assert markup.html_paragraphs("<p>  Two   spaces\n  and\ta tab </p>") == ["Two spaces and a tab"]
    root = xml.load(b"<body.content><p>  Two   spaces\n  and\ta tab </p></body.content>")
    assert markup.paragraphs(root, markup.NITF) == ["Two   spaces and\ta tab"]


def test_html_that_is_escaped_twice_is_read_once_more():
    assert markup.html_paragraphs("&lt;p&gt;Fish &amp;amp; chips&lt;/p&gt;") == ["Fish & chips"]


def test_inline_text_is_the_text_on_one_line():
    assert (
        markup.inline_text(xml.load(b"<hl1>Ferries\n   add a <em>dawn</em><br/>sailing</hl1>"))
        == "Ferries add a dawn sailing"
    )
    assert markup.inline_text(xml.load(b"<hl1>  </hl1>")) is None
    assert markup.inline_text(None) is None
