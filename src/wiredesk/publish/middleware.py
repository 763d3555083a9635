"""Middleware of the reader's site that no Django setting provides."""

from django.conf import settings


def permissions_policy(get_response):
    """settings.PERMISSIONS_POLICY on every answer (Django has no setting for it)."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    return middleware
