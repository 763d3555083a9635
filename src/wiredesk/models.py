"""What wiredesk keeps. Deliveries are the raw truth; stories and versions are derived from them."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from wiredesk import filing, lifecycle
from wiredesk.filing import topic_rows
from wiredesk.lifecycle import State
from wiredesk.story import WireStory


class Source(models.Model):
    """An agency or feed that delivers to us."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    # Agencies often write times without an offset; they are read in this zone.
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA name, such as Europe/Berlin")
    # Publishing policy: see wiredesk.lifecycle.Policy.
    auto_publish = models.BooleanField(default=True)
    hold_urgency = models.PositiveSmallIntegerField(null=True, blank=True)
    hold_subjects = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name

    @property
    def policy(self) -> lifecycle.Policy:
        return lifecycle.Policy(
            auto_publish=self.auto_publish, hold_urgency=self.hold_urgency, hold_subjects=frozenset(self.hold_subjects)
        )


# What the bytes of a delivery that stored none hash to (too large to read): such deliveries are
# each their own, so they are left out of the one-delivery-per-bytes rule.
NO_BYTES_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


class Delivery(models.Model):
    """The bytes exactly as received. Stored and committed before anything reads them, once: the
    same bytes from the same source again, by any transport, are that delivery."""

    class Status(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        QUARANTINED = "quarantined"
        # Quarantined, then set aside for good by an operator: no longer waiting for a fix.
        DISMISSED = "dismissed"

    class Transport(models.TextChoices):
        """The way the bytes came: the values the transports pass to the store step."""

        INBOX = "inbox", "inbox folder"
        HTTP = "http", "HTTP poll"
        FTP = "ftp", "FTP or FTPS fetch"
        SFTP = "sftp", "SFTP fetch"
        PUSH = "push", "HTTP push"
        SMTP = "smtp", "mail over SMTP"
        CLI = "cli", "wiredesk ingest"
        DEMO = "demo", "the demo wire"
        IMPORT = "import", "wiredesk import"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="deliveries")
    transport = models.CharField(max_length=20, choices=Transport)
    filename = models.CharField(max_length=500, blank=True)
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.RECEIVED, db_index=True)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # How many of its stories are applied: a large delivery is applied a batch per transaction,
    # and one interrupted carries on from here.
    stories_done = models.PositiveIntegerField(default=0)
    # Stored before repeats were recognised (migration 0009), as a later copy of a delivery's bytes.
    repeat = models.BooleanField(default=False)
    # Refused unread by its transport (too large, a link, a device): nothing to process, ever.
    unread = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "deliveries"
        # A source's latest deliveries (its health: last delivery, the last hour, its usual gap).
        indexes = [models.Index(fields=["source", "received_at"], name="delivery_source_received")]
        # Two transports (or two workers of one) taking the same bytes at once cannot both store
        # them: the second insert fails, and the store step answers with the first.
        constraints = [
            models.UniqueConstraint(
                fields=["source", "sha256"],
                condition=models.Q(repeat=False) & ~models.Q(sha256=NO_BYTES_SHA256),
                name="delivery_source_bytes",
            )
        ]

    def __str__(self):
        return f"delivery {self.pk} ({self.filename or self.transport})"


class StoryQuerySet(models.QuerySet):
    def visible(self, now=None):
        """What readers may see now. An embargoed story is live with a publication time still to
        come, so it appears by itself when that time passes, with no other event needed."""
        return self.filter(state=State.LIVE, published_at__lte=now or timezone.now())


class Story(models.Model):
    """One story as the site knows it: stable id and URL across all its versions."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="stories")
    uri = models.CharField(max_length=500)
    slug = models.SlugField(max_length=80, allow_unicode=False)
    state = models.CharField(max_length=10, choices=[(s.value, s.value) for s in State], default=State.HELD)
    reason = models.TextField(blank=True)  # why it is held, withheld, killed or a duplicate
    desk_hold = models.BooleanField(default=False)  # an operator held it; only an operator releases it
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies")
    # The version readers see (or would see, once live). Later copy the desk only keeps does not move it.
    current = models.ForeignKey("StoryVersion", null=True, on_delete=models.PROTECT, related_name="+")
    section = models.SlugField(max_length=60, db_index=False)
    # The current version's headline, so that listings need not read each version's JSON.
    headline = models.TextField(default="")
    # When readers first see the story (in the future under an embargo); unset until it is live.
    published_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(null=True)

    objects = StoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "stories"
        constraints = [models.UniqueConstraint(fields=["source", "uri"], name="story_source_uri")]
        # Each listing is the visible stories of one scope, newest first: with the scope's columns
        # first and the order's last, a page is read off the index, whatever the site holds.
        # Ahead of them, `state`: only live stories are ever listed.
        indexes = [
            models.Index(fields=["state", "published_at", "id"], name="story_visible_newest"),
            models.Index(fields=["state", "section", "published_at", "id"], name="story_section_newest"),
            models.Index(fields=["state", "source", "published_at", "id"], name="story_source_newest"),
        ]

    def __str__(self):
        return self.uri

    def get_absolute_url(self):
        return reverse("article", kwargs={"story_id": self.pk, "slug": self.slug})

    @property
    def section_name(self) -> str:
        return filing.section_name(self.section)

    @property
    def was_updated(self) -> bool:
        # A version filed within a minute of the first is a refiling of the news, not an update of it.
        return self.published_at is not None and self.updated_at - self.published_at > dt.timedelta(minutes=1)

    def show(self, version: StoryVersion) -> None:
        """Make `version` the one readers see (or would see, once live); save the story, then
        call models.file_topics."""
        self.current = version
        self.headline = version.canonical.headline

    def is_visible(self, now=None) -> bool:
        return lifecycle.rules.is_visible(self.state, self.published_at, now or timezone.now())

    def known(self) -> lifecycle.Known:
        """What the lifecycle rules need to know of this story."""
        fields = ("version", "fingerprint", "agency_version", "versioncreated")
        versions = tuple(lifecycle.StoredVersion(*row) for row in self.versions.values_list(*fields))
        return lifecycle.Known(
            state=State(self.state), versions=versions, desk_hold=self.desk_hold, published_at=self.published_at
        )


class StoryVersion(models.Model):
    """Every version ever received is kept, in canonical form, with the delivery it came in."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="versions")
    content = models.JSONField()  # wiredesk.story.WireStory.to_dict()
    fingerprint = models.CharField(max_length=64)
    # Copied out of `content` so versions can be ordered without reading it.
    agency_version = models.PositiveIntegerField(null=True)
    versioncreated = models.DateTimeField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "version"], name="version_story_number")]
        indexes = [models.Index(fields=["story", "fingerprint"])]

    def __str__(self):
        return f"{self.story.uri} v{self.version}"

    @cached_property
    def canonical(self) -> WireStory:
        return WireStory.from_dict(self.content)


class StoryKey(models.Model):
    """A name a story goes by (its headline, keyword or message number: see
    wiredesk.formats.conventions), or, for a kill kept before its story came, a name of the story
    it speaks of. How a kill, correction or advisory finds its story when the copy has no id."""

    class Role(models.TextChoices):
        NAME = "name"
        TARGET = "target"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="keys")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=6, choices=Role)
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["source", "role", "key"], name="storykey_source_role_key")]
        constraints = [models.UniqueConstraint(fields=["story", "role", "key"], name="storykey_story_role_key")]

    def __str__(self):
        return f"{self.role} {self.key}"


class TextBand(models.Model):
    """One locality-sensitive band of a story's text signature: stories sharing a band are
    candidates for being the same text (see wiredesk.lifecycle.duplicates)."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="bands")
    band = models.CharField(max_length=24, db_index=True)
    # When the text was filed: bands older than lifecycle.duplicates.WINDOW_DAYS are let go
    # (desk.upkeep), which keeps the table to a window's worth of stories.
    filed_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"{self.story_id} {self.band}"


class SearchEntry(models.Model):
    """What search reads of a story: its current version's headline and text, while it is live.
    Kept by wiredesk.publish.search.index. The full-text index over these rows belongs to the
    database (see migration 0005), so no model field stands for it."""

    story = models.OneToOneField(Story, on_delete=models.CASCADE, primary_key=True, related_name="search_entry")
    headline = models.TextField()
    body = models.TextField()

    class Meta:
        verbose_name_plural = "search entries"

    def __str__(self):
        return self.headline


class StoryTopic(models.Model):
    """One topic or place of a live story's current version, so that topic and place pages are
    an indexed query rather than a read of every story's JSON. Kept by file_topics on every
    change (publish.changes): a story readers may not see has no rows, so that a topic's page is
    read off this table's index alone, with nothing to ask of the story rows for the planner to
    weigh (asked of them, SQLite's planner walked every visible story for a common topic)."""

    class Kind(models.TextChoices):
        TOPIC = "topic"
        PLACE = "place"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="topics")
    kind = models.CharField(max_length=5, choices=Kind)
    slug = models.CharField(max_length=200)
    name = models.TextField()
    # The story's, copied when it is filed (on every change: publish.changes), so that a topic's
    # page is read newest first off this table's index rather than sorting all of its stories.
    published_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "slug", "published_at", "story"], name="storytopic_newest")]
        constraints = [models.UniqueConstraint(fields=["story", "kind", "slug"], name="storytopic_story_kind_slug")]

    def __str__(self):
        return f"{self.kind} {self.slug}"


def file_topics(stories: list[Story], *, new: bool = False) -> None:
    """File each story under its current version's topics and place while it is live (under an
    embargo too: the rows carry its publication time), and under none otherwise; `new` stories
    (inserted in this transaction) have none filed to take back."""
    if not new:
        StoryTopic.objects.filter(story__in=[story.pk for story in stories]).delete()
    StoryTopic.objects.bulk_create(
        [
            StoryTopic(story=story, kind=kind, slug=slug, name=name, published_at=story.published_at)
            for story in stories
            if story.state == State.LIVE
            for kind, slug, name in topic_rows(story.current.canonical)
        ]
    )


class SourceHealth(models.Model):
    """How a source's pull transport (HTTP poll, FTP fetch, IMAP) has fared: one row per source
    and transport, so that a failing FTP fetch is not hidden by a healthy HTTP poll of the same
    source. Kept in the database because several processes may poll; see wiredesk.desk.health."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="health")
    transport = models.CharField(max_length=20)
    last_attempt = models.DateTimeField(null=True)
    last_success = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True)
    consecutive_errors = models.PositiveIntegerField(default=0)
    total_errors = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "source health"
        constraints = [models.UniqueConstraint(fields=["source", "transport"], name="sourcehealth_source_transport")]

    def __str__(self):
        return f"{self.source_id} {self.transport}"


class SiteVersion(models.Model):
    """One row: a number that moves on with every change readers could see, and the next moment
    the clock alone changes the site. Web processes keep pages under it: see publish.pagecache."""

    ONLY = 1

    number = models.BigIntegerField(default=0)
    next_change = models.FloatField(null=True)  # Unix time: read raw on every request, on any database

    def __str__(self):
        return f"site version {self.number}"


class PollLease(models.Model):
    """Which host polls a pulled source (HTTP, FTP, SFTP) now, until when, and what its polls
    remember (validators, digests, files stored but not yet deleted, errors, the next poll's
    time): one row per source and transport. In the database, not a host's files, so that when
    the holder dies the host that takes the source over carries on where it stopped, without
    fetching and storing everything again. See wiredesk.desk.leases."""

    source = models.SlugField()
    transport = models.CharField(max_length=20)
    holder = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField(null=True)
    state = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "transport"], name="polllease_source_transport")]

    def __str__(self):
        return f"{self.source} {self.transport}: {self.holder or 'free'}"


class ChangeMark(models.Model):
    """A change readers can see, written in the transaction that made it (publish.changes): each
    host's static tree renders every mark newer than the last it rendered, so a kill through any
    host leaves every host's tree. Pruned after publish.static.marks.MARK_AGE."""

    id = models.BigAutoField(primary_key=True)
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"mark {self.pk}: story {self.story_id}"
