"""Listings without reading each version's JSON (a headline column, and a table of topics and
places under an index), and the health of each source's pull transports."""

import django.db.models.deletion
from django.db import migrations, models

from wiredesk.filing import topic_rows
from wiredesk.story import WireStory as CanonicalStory


def fill_existing_stories(apps, schema_editor):
    Story = apps.get_model("wiredesk", "Story")
    StoryTopic = apps.get_model("wiredesk", "StoryTopic")
    for story in Story.objects.filter(current__isnull=False).select_related("current").iterator():
        copy = CanonicalStory.from_dict(story.current.content)
        Story.objects.filter(pk=story.pk).update(headline=copy.headline)
        StoryTopic.objects.bulk_create(
            [StoryTopic(story_id=story.pk, kind=kind, slug=slug, name=name) for kind, slug, name in topic_rows(copy)]
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
