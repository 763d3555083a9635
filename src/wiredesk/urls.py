from django.urls import path

from wiredesk.publish import feeds, sitemaps, views

urlpatterns = [
    path("", views.home, name="home"),
    path("section/<slug:slug>/", views.section, name="section"),
    path("story/<int:story_id>/<slug:slug>/", views.article, name="article"),
    *feeds.urlpatterns,
    *sitemaps.urlpatterns,
]
