"""What the Open311 tests share: the official JSON Schemas (from ../shared/data/open311) as
validators (the `api_key` fixture is in conftest.py)."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.shared_data import shared_data_dir

BASE = "/open311/v2"
SCHEMA_BASE = "file:///open311/"


def open311_validators() -> dict[str, Draft7Validator]:
    """A validator per answer kind: services, service definition, requests."""
    folder = shared_data_dir() / "open311"
    registry = Registry().with_resources([
        (SCHEMA_BASE + path.name, Resource.from_contents(json.loads(path.read_text()),
                                                         default_specification=DRAFT7))
        for path in folder.glob("*.json") if path.name != "swagger.json"])
    return {name: Draft7Validator({"$ref": SCHEMA_BASE + name}, registry=registry)
            for name in ("services.json", "service-definition.json", "requests.json")}


def assert_valid(validator: Draft7Validator, data: Any) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, errors
