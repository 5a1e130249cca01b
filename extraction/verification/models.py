"""The stored text layer of a document: built once, read page by page by every run's evidence."""

from django.db import models


class DocumentTextLayer(models.Model):
    """Marks a document's text layer as complete (its pages are DocumentPage rows)."""

    document = models.OneToOneField(
        "extraction.Document", on_delete=models.CASCADE, primary_key=True, related_name="text_layer"
    )
    version = models.PositiveSmallIntegerField()
    page_count = models.PositiveIntegerField()
    text_pages = models.PositiveIntegerField()
    image_only_pages = models.PositiveIntegerField()
    failed_pages = models.PositiveIntegerField()
    # "dmy" / "mdy" when the document's own numeric dates settle the order, else "".
    date_order = models.CharField(max_length=3, blank=True)
    build_ms = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "extraction"

    def __str__(self):
        return f"text layer of {self.document_id} (v{self.version})"


class DocumentPage(models.Model):
    """One page's text, one character per PDF character, and each character's box."""

    class Kind(models.TextChoices):
        TEXT = "text"
        IMAGE_ONLY = "image_only"  # a scan: images, no text layer
        BLANK = "blank"
        FAILED = "failed"  # the page could not be parsed

    document = models.ForeignKey(
        "extraction.Document", on_delete=models.CASCADE, related_name="text_pages"
    )
    number = models.PositiveIntegerField()  # 1-based
    kind = models.CharField(max_length=16, choices=Kind.choices)
    width = models.FloatField(default=0)  # PDF points
    height = models.FloatField(default=0)
    text = models.TextField(blank=True)
    # zlib-compressed float32 array, 4 per character (left, bottom, right, top) in PDF points.
    boxes = models.BinaryField(blank=True, default=b"")

    class Meta:
        app_label = "extraction"
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="documentpage_unique_number"
            )
        ]

    def __str__(self):
        return f"{self.document_id} p.{self.number} ({self.kind})"
