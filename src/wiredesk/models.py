"""What wiredesk keeps. Deliveries are the raw truth; stories and versions are derived from them."""

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from wiredesk import lifecycle
from wiredesk.lifecycle import State
from wiredesk.story import Story as CanonicalStory


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
        return lifecycle.Policy(auto_publish=self.auto_publish, hold_urgency=self.hold_urgency,
                                hold_subjects=frozenset(self.hold_subjects))


class Delivery(models.Model):
    """The bytes exactly as received. Stored and committed before anything reads them."""

    class Status(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        QUARANTINED = "quarantined"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="deliveries")
    transport = models.CharField(max_length=20)  # inbox, cli, demo ...
    filename = models.CharField(max_length=500, blank=True)
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.RECEIVED, db_index=True)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"

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
    state = models.CharField(max_length=10, choices=[(s.value, s.value) for s in State], default=State.HELD, db_index=True)
    reason = models.TextField(blank=True)  # why it is held, withheld, killed or a duplicate
    desk_hold = models.BooleanField(default=False)  # an operator held it; only an operator releases it
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies")
    # The version readers see (or would see, once live). Later copy the desk only keeps does not move it.
    current = models.ForeignKey("StoryVersion", null=True, on_delete=models.PROTECT, related_name="+")
    section = models.SlugField(max_length=60, db_index=True)
    # When readers first see the story (in the future under an embargo); unset until it is live.
    published_at = models.DateTimeField(null=True, db_index=True)
    updated_at = models.DateTimeField(null=True)

    objects = StoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "stories"
        constraints = [models.UniqueConstraint(fields=["source", "uri"], name="story_source_uri")]

    def __str__(self):
        return self.uri

    def get_absolute_url(self):
        return reverse("article", kwargs={"story_id": self.pk, "slug": self.slug})

    @property
    def was_updated(self) -> bool:
        return self.published_at is not None and self.updated_at > self.published_at

    def is_visible(self, now=None) -> bool:
        return lifecycle.rules.is_visible(self.state, self.published_at, now or timezone.now())

    def known(self) -> lifecycle.Known:
        """What the lifecycle rules need to know of this story."""
        fields = ("version", "fingerprint", "agency_version", "versioncreated")
        versions = tuple(lifecycle.StoredVersion(*row) for row in self.versions.values_list(*fields))
        return lifecycle.Known(state=State(self.state), versions=versions, desk_hold=self.desk_hold,
                               published_at=self.published_at)


class StoryVersion(models.Model):
    """Every version ever received is kept, in canonical form, with the delivery it came in."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="versions")
    content = models.JSONField()  # wiredesk.story.Story.to_dict()
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
    def canonical(self) -> CanonicalStory:
        return CanonicalStory.from_dict(self.content)


class TextBand(models.Model):
    """One locality-sensitive band of a story's text signature: stories sharing a band are
    candidates for being the same text (see wiredesk.lifecycle.duplicates)."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="bands")
    band = models.CharField(max_length=24, db_index=True)


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
