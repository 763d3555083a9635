"""What wiredesk keeps. Deliveries are the raw truth; stories and versions are derived from them."""

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from wiredesk.story import Story as CanonicalStory


class Source(models.Model):
    """An agency or feed that delivers to us."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    # Agencies often write times without an offset; they are read in this zone.
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA name, such as Europe/Berlin")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


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


class Story(models.Model):
    """One story as the site knows it: stable id and URL across all its versions."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="stories")
    uri = models.CharField(max_length=500)
    slug = models.SlugField(max_length=80, allow_unicode=False)
    current = models.ForeignKey("StoryVersion", null=True, on_delete=models.PROTECT, related_name="+")
    section = models.SlugField(max_length=60, db_index=True)
    # Unset until readers first see the story: held and killed stories have none.
    published_at = models.DateTimeField(null=True, db_index=True)
    updated_at = models.DateTimeField(null=True)

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


class StoryVersion(models.Model):
    """Every version ever received is kept, in canonical form, with the delivery it came in."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="versions")
    content = models.JSONField()  # wiredesk.story.Story.to_dict()
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "version"], name="version_story_number")]
        indexes = [models.Index(fields=["story", "fingerprint"])]

    def __str__(self):
        return f"{self.story.uri} v{self.version}"

    @cached_property
    def canonical(self) -> CanonicalStory:
        return CanonicalStory.from_dict(self.content)
