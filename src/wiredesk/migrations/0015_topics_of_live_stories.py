"""Topic rows are kept for live stories only (Story.file_topics): those of the others go."""

from django.db import migrations


def drop_rows_of_stories_not_live(apps, schema_editor):
    # "live" as the state was named when this ran, frozen here like the logic of 0005 and 0006.
    StoryTopic = apps.get_model("wiredesk", "StoryTopic")
    StoryTopic.objects.exclude(story__state="live").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("wiredesk", "0014_read_indexes"),
    ]

    # Backwards there is nothing to put back: the desk before this read rows of live stories only.
    operations = [migrations.RunPython(drop_rows_of_stories_not_live, migrations.RunPython.noop)]
