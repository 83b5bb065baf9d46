"""Schemas of honest outcomes: how a report ended, who is responsible instead, and when an
open report is expected to be fixed."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from backend.workflow import Outcome


def outcome_field() -> fields.String:
    """How a closed report ended (null while open)."""
    return fields.String(required=True, allow_none=True, validate=validate.OneOf(
        [o.value for o in Outcome]), metadata={"description": (
            "How the report ended, null while open: `fixed`; `not_fixed` (closed without a "
            "fix); `not_responsible` (not the city's, `responsible` says whose); "
            "`duplicate`.")})


def expected_field() -> fields.DateTime:
    """The service-level date of an open report."""
    return fields.DateTime(required=True, allow_none=True, metadata={"description": (
        "While open: when the city expects it fixed (its service level); past it, the "
        "report is overdue. Null once closed.")})


class ResponsibleSchema(Schema):
    """Who is responsible for a report the city closed as not its own."""

    name = fields.String(required=True, metadata={"example": "Deutsche Bahn AG"})
    url = fields.String(required=True, allow_none=True,
                        metadata={"description": "Where to report it there (http/https)"})


class ResponsibleInputSchema(Schema):
    """Staff name who is responsible when closing a report as not the city's (public)."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(max=200))
    url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
