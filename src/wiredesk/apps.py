from django.apps import AppConfig


class WiredeskConfig(AppConfig):
    name = "wiredesk"
    verbose_name = "wiredesk"

    def ready(self):
        # Its receiver sets quarantined inbox files aside, in whichever process quarantines them
        # (`wiredesk run`, `reprocess`, `ingest`).
        from wiredesk.transports import inbox  # noqa: F401
