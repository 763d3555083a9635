"""Where a story belongs on the site: its section, its topics and its dateline's place.

Sections follow readable rules, `sections.toml` beside this module (its comments say how a story
is filed), which a deployment replaces with DATA/sections.toml. IPTC's Media Topics tree, for
walking from a topic up to the one a rule names and for naming topics sent as bare codes, is
`mediatopics.tsv` (see scripts/mediatopics).
"""

from __future__ import annotations

import functools
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.text import slugify

from wiredesk.story import Subject, WireStory

# StoryTopic.slug's length: a longer slug is cut, the same way wherever it is made.
TOPIC_SLUG_LENGTH = 200
DEFAULT_RULES = Path(__file__).with_name("sections.toml")
_TOPIC_URI = "http://cv.iptc.org/newscodes/mediatopic/"
_SUBJECT_URI = "http://cv.iptc.org/newscodes/subjectcode/"

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Section:
    slug: str
    name: str
    topics: frozenset[str]  # Media Topic codes, without "medtop:"
    categories: frozenset[str]  # in lower case


@dataclass(frozen=True)
class Rules:
    default: str
    sections: tuple[Section, ...]

    def section_for(self, story: WireStory) -> str:
        categories = [_category(subject) for subject in story.subjects]
        for section in self.sections:
            if any(category in section.categories for category in categories if category):
                return section.slug
        for subject in story.subjects:
            for topic in _ancestors(_media_topic(subject)):
                for section in self.sections:
                    if topic in section.topics:
                        return section.slug
        return self.default

    def name(self, slug: str) -> str:
        for section in self.sections:
            if section.slug == slug:
                return section.name
        # A section filed under rules since changed, or the default one.
        return slug.replace("-", " ").title()

    def order(self, slug: str) -> tuple[int, str]:
        """Sort key: the sections in the rules' order, then any others by name."""
        for position, section in enumerate(self.sections):
            if section.slug == slug:
                return position, ""
        return len(self.sections), slug


def read(file: Path) -> Rules:
    """The rules in `file`, checked: a mistake is named with its place."""
    try:
        config = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    unknown = set(config) - {"default", "sections"}
    if unknown:
        raise ConfigError(f"{file}: unknown setting {sorted(unknown)[0]!r}; known: default, sections")
    default = config.get("default", "news")
    if not isinstance(default, str) or slugify(default) != default or not default:
        raise ConfigError(f'{file}: default must be a section slug, such as "news"')
    sections = []
    for slug, values in config.get("sections", {}).items():
        where = f"{file}: [sections.{slug}]"
        if slugify(slug) != slug:
            raise ConfigError(f"{where}: a section's name in brackets must be a slug (lower case, digits, dashes)")
        if not isinstance(values, dict) or set(values) - {"name", "topics", "categories"}:
            raise ConfigError(f"{where}: settings are name, topics and categories")
        for key in ("topics", "categories"):
            if not (isinstance(values.get(key, []), list) and all(isinstance(v, str) for v in values.get(key, []))):
                raise ConfigError(f"{where}: {key} must be a list of strings")
        topics = set()
        for topic in values.get("topics", []):
            code = topic.removeprefix("medtop:")
            if not topic.startswith("medtop:") or code not in _media_topics():
                raise ConfigError(f"{where}: {topic!r} is not an IPTC Media Topic (medtop: and eight digits)")
            topics.add(code)
        sections.append(
            Section(
                slug,
                values.get("name") or slug.replace("-", " ").title(),
                frozenset(topics),
                frozenset(c.strip().lower() for c in values.get("categories", [])),
            )
        )
    return Rules(default, tuple(sections))


def path() -> Path:
    return Path(settings.DATA_DIR) / "sections.toml"


def rules() -> Rules:
    """The rules in force: DATA/sections.toml when there is one, read again when it changes."""
    file = path()
    try:
        stat = file.stat()
    except FileNotFoundError:
        file, stat = DEFAULT_RULES, DEFAULT_RULES.stat()
    return _rules(file, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1)
def _rules(file: Path, modified: int, size: int) -> Rules:
    try:
        return read(file)
    except ConfigError as exc:
        # Commands refuse a broken file when they start (check); one broken while the desk runs
        # must not stop publishing: the default rules file stories meanwhile.
        log.error("%s; filing stories by the default rules", exc)
        return read(DEFAULT_RULES)


def check() -> None:
    """Raise ConfigError for a DATA/sections.toml with a mistake."""
    if path().exists():
        read(path())


def section_for(story: WireStory) -> str:
    return rules().section_for(story)


def section_name(slug: str) -> str:
    return rules().name(slug)


def _category(subject: Subject) -> str | None:
    """The agency's category, in lower case, when the subject is one."""
    if subject.literal and subject.literal.startswith("category:"):
        return subject.name.strip().lower()
    return None


def _media_topic(subject: Subject) -> str | None:
    """The Media Topic code a subject stands for, from a Media Topic or an old subject code."""
    for identifier in (subject.uri or "", subject.literal or ""):
        for prefix in (_TOPIC_URI, "medtop:"):
            if identifier.startswith(prefix):
                return identifier.removeprefix(prefix)
        for prefix in (_SUBJECT_URI, "subj:"):
            if identifier.startswith(prefix):
                code = identifier.removeprefix(prefix)
                return _subject_codes().get(code) or (code[:2] + "000000" if code[:8].isdigit() else None)
    return None


def _ancestors(topic: str | None):
    """The topic, then each broader one up to its top level."""
    tree = _media_topics()
    seen = set()
    while topic and topic not in seen:
        seen.add(topic)
        yield topic
        topic = tree.get(topic)


@functools.cache
def _vocabulary() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    broader, same, labels = {}, {}, {}
    with DEFAULT_RULES.with_name("mediatopics.tsv").open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            topic, parent, subjects, label = line.rstrip("\n").split("\t")
            broader[topic] = parent
            labels[topic] = label
            for subject in filter(None, subjects.split(",")):
                same.setdefault(subject, topic)
    return broader, same, labels


def _media_topics() -> dict[str, str]:
    """Each Media Topic's broader topic ("" for the seventeen top levels)."""
    return _vocabulary()[0]


def _subject_codes() -> dict[str, str]:
    """Old IPTC subject codes to the Media Topic of the same meaning."""
    return _vocabulary()[1]


def _label(subject: Subject) -> str | None:
    """IPTC's label for a subject the agency named by its bare code ("medtop:04000000",
    "04000000", the uri), when the vocabulary has one. An old subject code has a label only
    through a Media Topic of exactly its meaning: a broader one's would say something else."""
    name = subject.name.strip().lower()
    for identifier in filter(None, (subject.uri, subject.literal, subject.name)):
        for prefix, is_subject_code in ((_TOPIC_URI, False), ("medtop:", False), (_SUBJECT_URI, True), ("subj:", True)):
            code = identifier.removeprefix(prefix)
            if identifier.startswith(prefix) and name in (code, identifier.lower()):
                topic = _subject_codes().get(code) if is_subject_code else code
                return _vocabulary()[2].get(topic or "")
    return None


def subject_name(subject: Subject) -> str:
    """The name readers see for a subject: the agency's, unless it is only a code IPTC names."""
    return _label(subject) or subject.name


def topics(wire: WireStory) -> dict[str, str]:
    """A story's topics, slug to name: its subjects and keywords."""
    found = {}
    for name in [*(subject_name(s) for s in wire.subjects), *wire.keywords]:
        # Of two names with one slug ("Olympics", "olympics"), the first is kept.
        found.setdefault(slugify(name)[:TOPIC_SLUG_LENGTH], name)
    found.pop("", None)
    return found


def place_slug(wire: WireStory) -> str:
    """The slug of the dateline's place ("PORT SALVIN" is port-salvin); empty without one."""
    return slugify(wire.located or "")[:TOPIC_SLUG_LENGTH]


def topic_rows(wire: WireStory) -> list[tuple[str, str, str]]:
    """What StoryTopic keeps of a story's copy: (kind, slug, name) for each topic and its place."""
    rows = [("topic", slug, name) for slug, name in topics(wire).items()]
    if slug := place_slug(wire):
        rows.append(("place", slug, wire.located))
    return rows
