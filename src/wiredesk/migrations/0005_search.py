"""Full-text search: the SearchEntry rows, and each database's own index over them.

Django has no model field for an FTS5 table, and a tsvector column in the model would be selected
on SQLite too, where it cannot exist: so the index is made here, per database, outside the model.
"""

import django.db.models.deletion
from django.db import migrations, models

# English stemming on both: porter on SQLite, the "english" configuration on PostgreSQL (see
# wiredesk.publish.search for what other languages would need).
INDEX = {
    "sqlite": [
        # External content: the words live once, in wiredesk_searchentry; triggers keep the index in step.
        """CREATE VIRTUAL TABLE wiredesk_searchentry_fts USING fts5(
               headline, body, content='wiredesk_searchentry', content_rowid='story_id',
               tokenize='porter unicode61 remove_diacritics 2')""",
        """CREATE TRIGGER wiredesk_searchentry_insert AFTER INSERT ON wiredesk_searchentry BEGIN
               INSERT INTO wiredesk_searchentry_fts (rowid, headline, body) VALUES (new.story_id, new.headline, new.body);
           END""",
        """CREATE TRIGGER wiredesk_searchentry_delete AFTER DELETE ON wiredesk_searchentry BEGIN
               INSERT INTO wiredesk_searchentry_fts (wiredesk_searchentry_fts, rowid, headline, body)
               VALUES ('delete', old.story_id, old.headline, old.body);
           END""",
        """CREATE TRIGGER wiredesk_searchentry_update AFTER UPDATE ON wiredesk_searchentry BEGIN
               INSERT INTO wiredesk_searchentry_fts (wiredesk_searchentry_fts, rowid, headline, body)
               VALUES ('delete', old.story_id, old.headline, old.body);
               INSERT INTO wiredesk_searchentry_fts (rowid, headline, body) VALUES (new.story_id, new.headline, new.body);
           END""",
    ],
    "postgresql": [
        """ALTER TABLE wiredesk_searchentry ADD COLUMN vector tsvector GENERATED ALWAYS AS (
               setweight(to_tsvector('english', headline), 'A') || setweight(to_tsvector('english', body), 'B')
           ) STORED""",
        "CREATE INDEX wiredesk_searchentry_vector ON wiredesk_searchentry USING gin (vector)",
    ],
}
UNINDEX = {
    "sqlite": [
        "DROP TRIGGER wiredesk_searchentry_update",
        "DROP TRIGGER wiredesk_searchentry_delete",
        "DROP TRIGGER wiredesk_searchentry_insert",
        "DROP TABLE wiredesk_searchentry_fts",
    ],
    "postgresql": [
        "DROP INDEX wiredesk_searchentry_vector",
        "ALTER TABLE wiredesk_searchentry DROP COLUMN vector",
    ],
}


def run(statements):
    def operation(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return operation


# The marks the engines put around matches in snippets, taken out of the indexed text.
_UNMARKED = str.maketrans({"\x02": " ", "\x03": " "})


def _searchable(content: dict) -> tuple[str, str]:
    """The headline and text a stored version's content is indexed under: frozen here as this
    migration ran it (wiredesk.publish.search.searchable), so that a later change there cannot
    change what this migration does."""
    return content["headline"].translate(_UNMARKED), "\n\n".join(content["paragraphs"]).translate(_UNMARKED)


def index_live_stories(apps, schema_editor):
    SearchEntry = apps.get_model("wiredesk", "SearchEntry")
    stories = apps.get_model("wiredesk", "Story").objects.filter(state="live", current__isnull=False)
    for story in stories.select_related("current").iterator():
        headline, body = _searchable(story.current.content)
        SearchEntry.objects.create(story_id=story.pk, headline=headline, body=body)


class Migration(migrations.Migration):
    dependencies = [
        ("wiredesk", "0004_lifecycle_states"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                (
                    "story",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_entry",
                        serialize=False,
                        to="wiredesk.story",
                    ),
                ),
                ("headline", models.TextField()),
                ("body", models.TextField()),
            ],
            options={
                "verbose_name_plural": "search entries",
            },
        ),
        migrations.RunPython(run(INDEX), run(UNINDEX)),
        migrations.RunPython(index_live_stories, migrations.RunPython.noop),
    ]
