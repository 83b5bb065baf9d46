"""Response templates (issue 20.1): admins keep texts per category or group and status, in
German, English and more, with placeholders; staff get them filled in for a report in the
reporter's language and send what they saw (possibly edited) as the public note."""

from backend.services.templates.placeholders import PLACEHOLDERS
from backend.services.templates.render import report_templates
from backend.services.templates.store import (
    list_templates,
    save_template,
    seed_templates,
    template_view,
)

__all__ = ["PLACEHOLDERS", "list_templates", "report_templates", "save_template",
           "seed_templates", "template_view"]
