"""What every template of the reader's site may name."""

from django.conf import settings


def site_context(request):
    return {"site_name": settings.WIREDESK["SITE_NAME"], "language": settings.LANGUAGE_CODE}
