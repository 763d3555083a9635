from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wiredesk", "0012_hosts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="transport",
            field=models.CharField(
                choices=[
                    ("inbox", "inbox folder"),
                    ("http", "HTTP poll"),
                    ("ftp", "FTP or FTPS fetch"),
                    ("sftp", "SFTP fetch"),
                    ("push", "HTTP push"),
                    ("smtp", "mail over SMTP"),
                    ("cli", "wiredesk ingest"),
                    ("demo", "the demo wire"),
                    ("import", "wiredesk import"),
                ],
                max_length=20,
            ),
        ),
    ]
