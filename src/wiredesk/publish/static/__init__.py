"""The static tree: the busiest pages as files, for nginx (deploy/nginx.conf) to serve without
asking Django, which answers whatever the tree does not hold.

    index.html                              the home page
    latest/index.html                       the latest stories (first page)
    story/<id>/<slug>/index.html            articles
    section/<slug>/index.html, rss.xml, atom.xml, feed.json
    source/<slug>/index.html, rss.xml, atom.xml, feed.json
    feeds/rss.xml, atom.xml, feed.json
    sitemap.xml, sitemaps/{fronts,articles,news}.xml, robots.txt

Each file is Django's own answer at that address, rendered through its handler for the host of
WIREDESK_BASE_URL, so nginx serves exactly Django's bytes. An address Django does not answer
with 200 has no file: nginx passes it on, and Django says 404, 410 or where it moved. Only the
first page of a listing is kept (nginx passes any query string on). A gzip copy stands beside
each file for nginx's gzip_static. Files are replaced whole (a temporary file renamed over the
old one), so nginx never reads half a page. The feeds a pass changes are announced to the
WebSub hub, if there is one (publish/websub.py).

An article also lists the five newest other stories of its section and every page lists the
sections, so one story changes many pages. After each change the tree is brought back to
Django's answers, and only the pages that change are rendered, however many stories there are:
- the story's page; and when the six newest of a section changed, those six pages, while the
  older pages of that section, which list its five newest, are taken out of the tree (for Django
  to serve) rather than rendered. The state beside the tree records which articles of each
  section the tree holds, so they are found without looking through every article (after a
  rebuild, which puts them all in, the first such change looks through them once).
- a listing (the home page, latest, a section's or a source's front, with its feeds) when what
  its copy shows changed: the state records, for each, its newest stories that a first page or
  a feed can show, and its number of pages ("Page 1 of N"). So a kill far down the listings
  renders none of them, unless the number of pages moves. The state also records which stories
  each front in the tree lists, so a story an update moves to another section leaves its old
  section's front too.
- the sitemaps, whose first pages the tree holds: the index always (it counts every sitemap's
  pages), the article sitemap's first page only for a story on it (pages run in id order,
  10,000 a page: a new story lands on the last page, which Django serves), the news sitemap
  only for a story published within its window of the time it was last written.
When the list of sections changes, every listing is rendered again, and every older article
page leaves the tree. A killed story therefore leaves every page of the tree.

The whole tree (`rebuild`, `wiredesk render`, or the sweep below) goes in chunks of articles in
id order, each under the lock, so that the passes of changes meanwhile wait for a chunk only;
after each the state records how far it went, so that a rebuild killed midway carries on from
there (started again from the first if what pages are made of changed meanwhile). At the end it
removes every file Django would not serve, reading the articles' folder a chunk at a time.

When: `changed` is called inside the transaction that changes a story. It writes a mark in the
database in that transaction, and once the transaction commits the pages are written: by the
renderer process if one follows the tree (`follow`, under `wiredesk run`, which takes every mark
newer than the last it rendered in one pass and holds the follower lock in the work folder for
as long as it follows; an article readers may no longer see leaves the committing host's tree at
the commit all the same, and every other host's at its follower's next look, before that pass
renders anything), else at once, by the process that committed, or, for a command that commits
many changes one after another (`wiredesk ingest`), in one pass at its end (`deferred`). Every
host's follower renders every host's marks, so a kill through any host leaves every tree. A
crash between the commit and the writing leaves the mark newer than the tree's last, for the
next pass or the sweep (`catch_up`). The sweep also renders stories whose publication time (an
embargo) has come since its last run, and the news sitemap when stories age out of it, since
nothing else happens at those times. And it rebuilds the whole tree when what every page is
made of besides the stories has changed: wiredesk's code and templates (an upgrade), the site's
settings, or the sources and sections files (a source's seo setting, a section's name), which
are read without a restart.

Here: `marks` (when: the marks, the follower, the sweep), `plan` (which pages a change reaches,
and rendering them through Django), `files` (the tree's files and the work folder beside it),
`fingerprint` (what pages are made of besides the stories).
"""

from wiredesk.publish.static.files import tree
from wiredesk.publish.static.marks import catch_up, changed, deferred, follow, followed, rebuild, render_pending
from wiredesk.publish.static.plan import RenderError, write

__all__ = [
    "RenderError",
    "catch_up",
    "changed",
    "deferred",
    "follow",
    "followed",
    "rebuild",
    "render_pending",
    "tree",
    "write",
]
