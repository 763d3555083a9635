"""The reader's pages, through Django's test client."""

import datetime as dt
import re

import time_machine
from conftest import NOW, SEED, story_copy

from wiredesk.models import Story


def test_the_article_shows_headline_dateline_agency_times_text_and_disclaimer(client, ingest, settings):
    [result] = ingest(SEED.read_bytes())
    html = client.get(result.url).content.decode()
    story = Story.objects.get()
    assert "<h1>US President Joe Biden is expected to express &quot;deep concern&quot;" in html
    assert '<span class="dateline">Washington, Nov 14</span> US President Joe Biden' in html
    assert '<a href="/source/ians/"><span class="agency">IANS</span></a>' in html
    assert f'<time datetime="{story.published_at:%Y-%m-%dT%H:%M:%S%z}">' in html
    assert f"Disclaimer: {settings.WIREDESK['DISCLAIMER']}</p>" in html
    assert f'<link rel="canonical" href="http://testserver{result.url}">' in html
    assert '<a href="/section/news/" aria-current="page">News</a>' in html


def test_the_disclaimer_is_configurable(client, ingest, settings):
    settings.WIREDESK = {**settings.WIREDESK, "DISCLAIMER": "Wire copy, unedited."}
    [result] = ingest(story_copy())
    assert "Disclaimer: Wire copy, unedited.</p>" in client.get(result.url).content.decode()


def test_markup_in_agency_text_is_shown_as_text(client, ingest):
    [result] = ingest(
        story_copy(
            headline="Tags <b>in</b> a headline",
            paragraphs=('A reader saw "<script>alert(1)</script>" & more.', "Then <img src=x onerror=alert(2)>."),
        )
    )
    html = client.get(result.url).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>in</b>" not in html
    assert "&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; &amp; more." in html
    assert "Tags &lt;b&gt;in&lt;/b&gt; a headline" in html


def test_an_update_keeps_the_url_and_shows_when_it_was_updated(client, ingest):
    [first] = ingest(story_copy())
    page = client.get(first.url).content.decode()
    assert "Updated" not in page
    # Five minutes on: a version within a minute of the first does not count as an update.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)):
        [second] = ingest(story_copy(paragraphs=("The cranes worked again.", "Queues cleared by noon.")))
        page = client.get(first.url).content.decode()
    story = Story.objects.get()
    assert second.url == first.url
    assert "Queues cleared by noon." in page and "Dock workers said" not in page
    assert f'Updated <time datetime="{story.updated_at:%Y-%m-%dT%H:%M:%S%z}">' in page


def test_a_wrong_slug_redirects_to_the_one_url(client, ingest):
    [result] = ingest(story_copy())
    story_id = Story.objects.get().pk
    response = client.get(f"/story/{story_id}/some-old-slug/")
    assert response.status_code == 301
    assert response["Location"] == result.url


def test_an_unknown_story_is_404(client, db):
    assert client.get("/story/999/nothing/").status_code == 404


def test_the_home_page_lists_the_latest_stories_first(client, ingest):
    ingest(
        story_copy("Older story about tides", date="2026-11-20", paragraphs=("The tide ran high.",)),
        received_at=_at(2026, 11, 20),
    )
    ingest(
        story_copy("Newer story about ferries", date="2026-11-24", paragraphs=("The ferries sailed.",)),
        received_at=_at(2026, 11, 24),
    )
    html = client.get("/").content.decode()
    headlines = re.findall(r"<h2><a href=\"[^\"]+\">([^<]+)</a></h2>", html)
    assert headlines == ["Newer story about ferries", "Older story about tides"]


def test_a_section_front_lists_only_its_stories(client, ingest):
    ingest(b"date 2026-11-24\ncategory Sport\nRowers win gold\n\nOSLO (HP) - The rowers won.\n")
    ingest(b"date 2026-11-24\ncategory Business\nShares rise\n\nOSLO (HP) - Shares rose.\n")
    html = client.get("/section/sport/").content.decode()
    assert "Rowers win gold" in html and "Shares rise" not in html
    assert client.get("/section/no-such-section/").status_code == 404


def test_the_demo_wire_makes_a_living_site(client, db):
    from wiredesk import demo

    with time_machine.travel(NOW, tick=False):
        counts = demo.load()
        assert counts == {"published": 15, "updated": 2, "killed": 1, "embargoed": 1}
        assert demo.load() == {"unchanged": 19}
        html = client.get("/").text
        # 15 stories, one killed: each of the other 14 once, the 12 newest first, then the
        # older two in their sections' blocks.
        listed = re.findall(r'<h([23])><a href="/story/[^"]+">', html)
        assert listed == ["2"] * 12 + ["3"] * 2
        assert "Nordhaven shipyard" not in html
        update = Story.objects.get(uri="urn:demo:hp:skerra-ferry-timetable")
        assert "fares unchanged" in client.get(update.get_absolute_url()).text
        corrected = client.get(Story.objects.get(uri="urn:demo:nw:arden-library-hours").get_absolute_url()).text
        assert "misstated the councillor" in corrected and "CORRECTS" not in corrected
        assert (
            client.get(Story.objects.get(uri="urn:demo:mns:valmora-dam-inspection").get_absolute_url()).status_code
            == 410
        )
    # The embargoed story comes out a minute after the demo was first loaded, by itself.
    with time_machine.travel(NOW + dt.timedelta(seconds=59), tick=False):
        assert "Nordhaven shipyard" not in client.get("/").text
    with time_machine.travel(NOW + dt.timedelta(seconds=60), tick=False):
        assert "Nordhaven shipyard doubles its order book" in client.get("/").text
    assert len(Story.objects.values("section").distinct()) >= 6
    assert set(Story.objects.values_list("source__name", flat=True)) == {
        "Meridian News Service",
        "Harbour Press",
        "Northwire",
    }


def _at(*ymd):
    import datetime as dt

    return dt.datetime(*ymd, 12, 0, tzinfo=dt.UTC)


def test_a_dateline_kept_apart_from_the_text_is_set_before_the_lede(client, ingest, monkeypatch):
    from wiredesk.desk import pipeline
    from wiredesk.story import Dateline, WireStory

    copy = WireStory(
        uri="urn:test:dateline",
        headline="Bridge opens",
        paragraphs=["The bridge opened.", "Cars crossed."],
        dateline=Dateline(text="KESTON, March 3 (NW)", place="KESTON"),
    )
    monkeypatch.setattr(pipeline.formats, "parse", lambda *a, **k: [copy])
    [result] = ingest(b"<nitf/>")
    html = client.get(result.url).content.decode()
    assert '<p><span class="dateline">KESTON, March 3 (NW)</span> — The bridge opened.</p>' in html
