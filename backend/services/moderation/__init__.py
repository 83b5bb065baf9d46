"""Staff moderation of a report's photos: hide, rotate, extra redaction regions, restore,
release a withheld photo (`photos`), and the audited private preview of an original
(`preview`). Re-rendering runs in the photo queue (`workers.photo_jobs.redact_photo`)."""
