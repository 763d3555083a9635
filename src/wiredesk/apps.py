from django.apps import AppConfig


class WiredeskConfig(AppConfig):
    name = "wiredesk"
    verbose_name = "wiredesk"
