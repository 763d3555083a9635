from django.urls import path, re_path

from wiredesk.desk import health
from wiredesk.publish import feeds, search, sitemaps, views
from wiredesk.transports import push

urlpatterns = [
    path("", views.home, name="home"),
    path("latest/", views.latest, name="latest"),
    path("section/<slug:slug>/", views.section, name="section"),
    path("story/<int:story_id>/<slug:slug>/", views.article, name="article"),
    path("source/<slug:slug>/", views.source, name="source"),
    path("topic/<slug:slug>/", views.topic, name="topic"),
    path("place/<slug:slug>/", views.place, name="place"),
    path("archive/", views.archive, name="archive"),
    # Two-digit month and day only, so that each day has one address.
    re_path(
        r"^archive/(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/(?P<day>[0-9]{2})/$", views.archive_day, name="archive-day"
    ),
    path("search/", search.page, name="search"),
    *feeds.urlpatterns,
    *sitemaps.urlpatterns,
    path("healthz", health.healthz, name="healthz"),
    path("push/<slug:source>", push.receive, name="push"),
]

handler404 = views.not_found
