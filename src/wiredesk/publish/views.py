"""The reader's site, rendered by Django from the database."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from wiredesk.lifecycle import State
from wiredesk.models import Story
from wiredesk.publish.sections import section_name

PAGE_SIZE = 30


def site_context(request):
    return {"site_name": settings.WIREDESK["SITE_NAME"], "language": settings.LANGUAGE_CODE}


def live_stories():
    return Story.objects.visible().select_related("current", "source").order_by("-published_at", "-pk")


def _sections():
    return [(slug, section_name(slug)) for slug in
            Story.objects.visible().values_list("section", flat=True).distinct().order_by("section")]


def home(request):
    page = Paginator(live_stories(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "wiredesk/front.html", {"page": page, "sections": _sections(), "title": None})


def section(request, slug):
    stories = live_stories().filter(section=slug)
    if not stories.exists():
        raise Http404("No such section")
    page = Paginator(stories, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "wiredesk/front.html",
                  {"page": page, "sections": _sections(), "title": section_name(slug), "current_section": slug})


def article(request, story_id, slug):
    story = get_object_or_404(Story.objects.select_related("current", "source", "duplicate_of"), pk=story_id)
    if story.state == State.KILLED:
        return render(request, "wiredesk/gone.html", {"story": story, "sections": _sections()}, status=410)
    if story.state == State.DUPLICATE and story.duplicate_of and story.duplicate_of.is_visible():
        return redirect(story.duplicate_of, permanent=True)
    if not story.is_visible():
        # Held, withheld, or under embargo: nothing about it may show, not even that it exists.
        raise Http404("No such story")
    if slug != story.slug:
        return redirect(story, permanent=True)
    copy = story.current.canonical
    first, *rest = copy.paragraphs
    dateline = copy.dateline.text if copy.dateline else None
    if dateline and first.startswith(dateline):
        # Plain copy runs the dateline into the lede: shown exactly as the agency ran it.
        lede_rest = first[len(dateline):]
    else:
        # XML formats keep it apart; set it before the lede the way wire copy reads.
        lede_rest = f" — {first}" if dateline else first
    return render(request, "wiredesk/article.html", {
        "story": story,
        "canonical": request.build_absolute_uri(story.get_absolute_url()),
        "copy": copy,
        "dateline": dateline,
        "lede_rest": lede_rest,
        "paragraphs": rest,
        "section_name": section_name(story.section),
        "sections": _sections(),
        "current_section": story.section,
        "disclaimer": settings.WIREDESK["DISCLAIMER"],
    })
