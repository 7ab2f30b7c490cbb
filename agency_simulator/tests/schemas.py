"""The JSON Schemas of docs/protocol.md, read from the page so that the page stays true."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from agency_simulator.tests.conftest import ROOT

BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


@functools.cache
def schemas() -> dict[str, dict[str, Any]]:
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    found = {}
    for block in BLOCK.findall(text):
        document = json.loads(block)
        if isinstance(document, dict) and "$id" in document:
            found[document["$id"].rsplit(":", 1)[1]] = document
    return found


@functools.cache
def validator(name: str) -> Draft202012Validator:
    registry: Registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas().values()
    )
    schema = schemas()[name]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry)


def errors(name: str, instance: Any) -> list[str]:
    """Return the schema violations of `instance`, as readable lines."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(name).iter_errors(instance)
    ]
