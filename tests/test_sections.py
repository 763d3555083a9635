"""Sections: the rules that file a story (sections.toml), and the home page built from them."""

import json
import re
import subprocess
import sys

import lxml.html
import pytest
from conftest import desk_env, story_copy

from wiredesk import filing
from wiredesk.models import Story
from wiredesk.publish import queries
from wiredesk.story import Subject, WireStory

MEDTOP = "http://cv.iptc.org/newscodes/mediatopic/"
SUBJ = "http://cv.iptc.org/newscodes/subjectcode/"


def filed(*subjects: Subject) -> str:
    return filing.section_for(
        WireStory(uri="urn:t:1", headline="A headline", paragraphs=["Text."], subjects=list(subjects))
    )


def category(name: str) -> Subject:
    return Subject(name=name, literal=f"category:{name}")


# --- the default rules ----------------------------------------------------------------------------


def test_the_agency_category_decides_whatever_its_case():
    assert filed(category("Business")) == "business"
    assert filed(category("SPORTS")) == "sport"
    assert filed(category("Wirtschaft")) == "business"


def test_a_media_topic_files_under_the_section_of_its_nearest_broader_topic():
    assert filed(Subject("politics", uri=MEDTOP + "11000000")) == "politics"
    # association football < football? no: < sport (medtop:15000000), three levels up
    assert filed(Subject("association football", uri=MEDTOP + "20000822")) == "sport"
    # climate change < environment
    assert filed(Subject("climate change", literal="medtop:20000418")) == "environment"
    # technology and engineering is under science and technology, and has a section of its own
    assert filed(Subject("aerospace engineering", uri=MEDTOP + "20000757")) == "technology"
    assert filed(Subject("mathematics", uri=MEDTOP + "20000715")) == "science"


def test_an_old_subject_code_counts_as_its_media_topic_or_its_top_level():
    assert filed(Subject("Sykdom", uri=SUBJ + "07001000")) == "health"
    assert filed(Subject("soccer", literal="subj:15054000")) == "sport"


def test_the_agency_category_comes_before_any_subject():
    assert filed(Subject("fire", literal="medtop:20000150"), category("Politik")) == "politics"


def test_subjects_count_in_the_order_the_agency_gave_them():
    assert filed(Subject("people", literal="medtop:20000498"), Subject("sport", literal="medtop:15000000")) == filed(
        Subject("people", literal="medtop:20000498")
    )


def test_anything_else_goes_to_the_default_section():
    assert filed() == "news"
    assert (
        filed(category("Vermischtes"), Subject("Jan Guillou"), Subject("Internet", literal="dpasubject:377")) == "news"
    )


def test_section_names_come_from_the_rules():
    assert filing.section_name("justice") == "Crime & Justice"
    assert filing.section_name("news") == "News"
    assert filing.section_name("old-section") == "Old Section"


def test_every_topic_in_the_default_rules_is_a_media_topic():
    rules = filing.read(filing.DEFAULT_RULES)
    assert len(rules.sections) >= 10 and rules.default == "news"


# --- a deployment's own rules ---------------------------------------------------------------------

RULES = """
default = "general"
[sections.harbour]
name = "Harbour"
categories = ["ports", "shipping"]
topics = ["medtop:04000000"]
"""


@pytest.fixture
def own_rules(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    (tmp_path / "sections.toml").write_text(RULES, encoding="utf-8")
    return tmp_path / "sections.toml"


def test_data_sections_toml_replaces_the_default_rules(own_rules):
    assert filed(category("Shipping")) == "harbour"
    assert filed(Subject("economy", literal="medtop:04000000")) == "harbour"
    assert filed(category("Sport")) == "general"
    assert filing.section_name("harbour") == "Harbour"


@pytest.mark.parametrize(
    "text, error",
    [
        ('default = "Big News"', "default must be a section slug"),
        ('[sections.Harbour]\nname = "H"', "must be a slug"),
        ('[sections.harbour]\ntopics = ["medtop:99999999"]', "'medtop:99999999' is not an IPTC Media Topic"),
        ('[sections.harbour]\ntopics = "medtop:04000000"', "topics must be a list of strings"),
        ('[sections.harbour]\ncolour = "blue"', "settings are name, topics and categories"),
        ('colour = "blue"', "unknown setting 'colour'"),
        ("[sections.harbour", "sections.toml"),
    ],
)
def test_mistakes_in_the_rules_are_named(own_rules, text, error):
    own_rules.write_text(text, encoding="utf-8")
    with pytest.raises(filing.ConfigError, match=re.escape(error)):
        filing.check()


def test_a_file_broken_while_the_desk_runs_leaves_the_default_rules_in_force(own_rules, caplog):
    own_rules.write_text('[sections.harbour]\ntopics = ["nonsense"]', encoding="utf-8")
    assert filed(category("Sport")) == "sport"
    assert "filing stories by the default rules" in caplog.text


def test_commands_refuse_broken_rules_and_say_where(tmp_path):
    (tmp_path / "sections.toml").write_text('[sections.harbour]\ntopics = ["medtop:1"]', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "wiredesk.app.cli", "migrate", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        env=desk_env(),
    )
    assert result.returncode == 2
    assert "sections.toml: [sections.harbour]: 'medtop:1' is not an IPTC Media Topic" in result.stderr


# --- the home page --------------------------------------------------------------------------------


def copy_in(section: str, n: int) -> bytes:
    # Words of its own, or the desk takes it for a copy of another story.
    words = " ".join(f"{section.lower()}{n}w{i}" for i in range(8))
    return story_copy(f"{section} story {n}", paragraphs=(f"{words}.",), dateline="").replace(
        b"date 2026-11-24\n", f"date 2026-11-24\ncategory {section}\n".encode()
    )


def test_the_home_page_shows_the_latest_then_each_section_without_repeating_a_story(client, ingest, monkeypatch):
    monkeypatch.setattr(queries, "HOME_LATEST", 3)
    monkeypatch.setattr(queries, "HOME_PER_SECTION", 2)
    for n in range(3):
        ingest(copy_in("Sport", n))
    for n in range(2):
        ingest(copy_in("Business", n))
    ingest(copy_in("Vermischtes", 0))
    doc = lxml.html.fromstring(client.get("/").content)
    latest, *blocks = doc.xpath("//main/section")
    assert latest.xpath(".//h2/a/text()") == ["Vermischtes story 0", "Business story 1", "Business story 0"]
    # Sections in the rules' order (business before sport), the default section last.
    assert [(b.xpath("string(h2)"), b.xpath(".//h3/a/text()")) for b in blocks] == [
        ("Sport", ["Sport story 2", "Sport story 1"])
    ]
    assert doc.xpath("//nav[@aria-label='Sections']//a/text()") == ["Latest", "Business", "Sport", "News"]
    assert doc.xpath("//a[text()='All the latest stories']/@href") == ["/latest/"]


def test_the_latest_stories_page_lists_every_story_with_stable_pages(client, ingest, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    for n in range(5):
        ingest(copy_in("Sport", n))
    second = lxml.html.fromstring(client.get("/latest/?page=2").content)
    assert second.xpath("//ul[@class='stories']//h2/a/text()") == ["Sport story 2", "Sport story 1"]
    assert second.xpath("//a[@rel='next']/@href") == ["?page=3"]


def test_a_story_moves_section_when_a_new_version_says_so(client, ingest):
    uri = json.dumps
    first = {
        "uri": "urn:t:move",
        "version": 1,
        "headline": "Cranes",
        "body_text": "PORT SALVIN (HP) - Cranes moved.",
        "subject": [{"name": "Business", "literal": "category:Business"}],
    }
    ingest(uri(first).encode(), source="hp")
    ingest(
        uri(
            {
                **first,
                "version": 2,
                "body_text": "PORT SALVIN (HP) - Cranes moved again.",
                "subject": [{"name": "sport", "uri": MEDTOP + "15000000"}],
            }
        ).encode(),
        source="hp",
    )
    assert Story.objects.get(uri="urn:t:move").section == "sport"
    assert "Cranes" in client.get("/section/sport/").text
    assert client.get("/section/business/").status_code == 404
