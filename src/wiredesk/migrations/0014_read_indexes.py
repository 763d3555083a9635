"""Indexes matched to the site's listings (issue 15): each is the visible stories of one scope,
newest first, read off an index whatever the site holds. The single-column indexes they make
redundant go, and topic rows carry their story's publication time (filled here), so a topic's page
is read newest first too. Statistics are gathered at the end, so the planner uses them at once."""

from django.db import migrations, models

# One statement on either database: each topic row takes its story's publication time.
FILL = """UPDATE wiredesk_storytopic SET published_at =
    (SELECT published_at FROM wiredesk_story WHERE wiredesk_story.id = wiredesk_storytopic.story_id)"""


def analyze(apps, schema_editor):
    # As wiredesk.db.optimize does it, frozen here: SQLite samples each index, in a fraction of
    # a second at any size.
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("PRAGMA analysis_limit = 1000")
    schema_editor.execute("ANALYZE")


class Migration(migrations.Migration):
    dependencies = [
        ("wiredesk", "0013_import_transport"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="storytopic",
            name="storytopic_kind_slug",
        ),
        migrations.AddField(
            model_name="storytopic",
            name="published_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AlterField(
            model_name="story",
            name="published_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AlterField(
            model_name="story",
            name="section",
            field=models.SlugField(db_index=False, max_length=60),
        ),
        migrations.AlterField(
            model_name="story",
            name="state",
            field=models.CharField(
                choices=[
                    ("live", "live"),
                    ("held", "held"),
                    ("withheld", "withheld"),
                    ("killed", "killed"),
                    ("duplicate", "duplicate"),
                ],
                default="held",
                max_length=10,
            ),
        ),
        migrations.AddIndex(
            model_name="story",
            index=models.Index(fields=["state", "published_at", "id"], name="story_visible_newest"),
        ),
        migrations.AddIndex(
            model_name="story",
            index=models.Index(fields=["state", "section", "published_at", "id"], name="story_section_newest"),
        ),
        migrations.AddIndex(
            model_name="story",
            index=models.Index(fields=["state", "source", "published_at", "id"], name="story_source_newest"),
        ),
        migrations.AddIndex(
            model_name="storytopic",
            index=models.Index(fields=["kind", "slug", "published_at", "story"], name="storytopic_newest"),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
