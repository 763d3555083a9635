"""Listings without reading each version's JSON (a headline column, and a table of topics and
places under an index), and the health of each source's pull transports."""

import functools
from pathlib import Path

import django.db.models.deletion
from django.db import migrations, models
from django.utils.text import slugify

# What follows is wiredesk.filing.topic_rows as this migration ran it, frozen here over a stored
# version's content, so that a later change there cannot change what this migration does. The
# vocabulary is IPTC's data, not the desk's logic: it is read from the file the package ships.
_SLUG_LENGTH = 200
_TOPIC_URI = "http://cv.iptc.org/newscodes/mediatopic/"
_SUBJECT_URI = "http://cv.iptc.org/newscodes/subjectcode/"
_VOCABULARY = Path(__file__).resolve().parent.parent / "mediatopics.tsv"


@functools.cache
def _vocabulary() -> tuple[dict[str, str], dict[str, str]]:
    """Old IPTC subject codes to the Media Topic of the same meaning, and each topic's label."""
    same, labels = {}, {}
    with _VOCABULARY.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            topic, _, subjects, label = line.rstrip("\n").split("\t")
            labels[topic] = label
            for subject in filter(None, subjects.split(",")):
                same.setdefault(subject, topic)
    return same, labels


def _subject_name(subject: dict) -> str:
    """The agency's name for a subject, unless it is only a code IPTC names."""
    same, labels = _vocabulary()
    name = subject["name"].strip().lower()
    for identifier in filter(None, (subject.get("uri"), subject.get("literal"), subject["name"])):
        for prefix, is_subject_code in ((_TOPIC_URI, False), ("medtop:", False), (_SUBJECT_URI, True), ("subj:", True)):
            code = identifier.removeprefix(prefix)
            if identifier.startswith(prefix) and name in (code, identifier.lower()):
                label = labels.get((same.get(code) if is_subject_code else code) or "")
                return label or subject["name"]
    return subject["name"]


def _topic_rows(content: dict) -> list[tuple[str, str, str]]:
    """(kind, slug, name) for each of a version's topics (subjects, then keywords) and its place."""
    topics = {}
    for name in [*(_subject_name(s) for s in content.get("subjects", [])), *content.get("keywords", [])]:
        topics.setdefault(slugify(name)[:_SLUG_LENGTH], name)
    topics.pop("", None)
    rows = [("topic", slug, name) for slug, name in topics.items()]
    place = (content.get("dateline") or {}).get("place")
    if slug := slugify(place or "")[:_SLUG_LENGTH]:
        rows.append(("place", slug, place))
    return rows


def fill_existing_stories(apps, schema_editor):
    Story = apps.get_model("wiredesk", "Story")
    StoryTopic = apps.get_model("wiredesk", "StoryTopic")
    for story in Story.objects.filter(current__isnull=False).select_related("current").iterator():
        content = story.current.content
        Story.objects.filter(pk=story.pk).update(headline=content["headline"])
        StoryTopic.objects.bulk_create(
            [
                StoryTopic(story_id=story.pk, kind=kind, slug=slug, name=name)
                for kind, slug, name in _topic_rows(content)
            ]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("wiredesk", "0005_search"),
    ]

    operations = [
        migrations.CreateModel(
            name="SourceHealth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("transport", models.CharField(max_length=20)),
                ("last_attempt", models.DateTimeField(null=True)),
                ("last_success", models.DateTimeField(null=True)),
                ("last_error", models.TextField(blank=True)),
                ("last_error_at", models.DateTimeField(null=True)),
                ("consecutive_errors", models.PositiveIntegerField(default=0)),
                ("total_errors", models.PositiveIntegerField(default=0)),
                ("attempts", models.PositiveIntegerField(default=0)),
            ],
            options={
                "verbose_name_plural": "source health",
            },
        ),
        migrations.CreateModel(
            name="StoryTopic",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("topic", "Topic"), ("place", "Place")], max_length=5)),
                ("slug", models.CharField(max_length=200)),
                ("name", models.TextField()),
            ],
        ),
        migrations.AddField(
            model_name="story",
            name="headline",
            field=models.TextField(default=""),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(fields=["source", "received_at"], name="delivery_source_received"),
        ),
        migrations.AddField(
            model_name="sourcehealth",
            name="source",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="health", to="wiredesk.source"
            ),
        ),
        migrations.AddField(
            model_name="storytopic",
            name="story",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="topics", to="wiredesk.story"
            ),
        ),
        migrations.AddConstraint(
            model_name="sourcehealth",
            constraint=models.UniqueConstraint(fields=("source", "transport"), name="sourcehealth_source_transport"),
        ),
        migrations.AddIndex(
            model_name="storytopic",
            index=models.Index(fields=["kind", "slug"], name="storytopic_kind_slug"),
        ),
        migrations.AddConstraint(
            model_name="storytopic",
            constraint=models.UniqueConstraint(fields=("story", "kind", "slug"), name="storytopic_story_kind_slug"),
        ),
        migrations.RunPython(fill_existing_stories, migrations.RunPython.noop),
    ]
