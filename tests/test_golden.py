"""The golden test: the seed's agency copy, published, reads back word for word in a browser."""

import re

import pytest
from conftest import SEED, SEED_PUBLISHED

from wiredesk.desk import pipeline


@pytest.mark.django_db(transaction=True)
def test_the_published_article_gives_back_the_agency_copy_exactly(live_server, chromium):
    delivery = pipeline.receive(SEED.read_bytes(), source="ians", transport="cli")
    [result] = pipeline.process(delivery.pk)

    page = chromium.new_page()
    page.goto(live_server.url + result.url)
    visible = page.inner_text(".story-body")
    page.close()

    # The site the seed came from also printed the feed's `date` field as text; we show a
    # proper published time instead, so the comparison starts at the dateline.
    expected = re.sub(r"\A\s*date \d{4}-\d{2}-\d{2} ", "", SEED_PUBLISHED.read_text(encoding="utf-8"))
    assert visible == expected


@pytest.mark.django_db(transaction=True)
def test_script_in_agency_copy_is_not_executed_in_the_browser(live_server, chromium):
    copy = (
        b"Alert test\n\nOSLO (HP) - A page showed <script>window.pwned = 1</script> "
        b'and <img src=x onerror="window.pwned = 2"> as text.\n'
    )
    [result] = pipeline.process(pipeline.receive(copy, source="hp", transport="cli").pk)
    page = chromium.new_page()
    page.goto(live_server.url + result.url)
    assert page.evaluate("window.pwned") is None
    assert "<script>window.pwned = 1</script>" in page.inner_text(".story-body")
    page.close()
