"""`research-news schema`: JSON Schema for editors' autocompletion."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from ..sections import content_model


class Kind(StrEnum):
    brief = "brief"
    issue = "issue"
    publication = "publication"


def schema(kind: Annotated[Kind, typer.Argument(help="Which file the schema describes.")]) -> None:
    """Print the JSON Schema of a brief, issue or publication file."""
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"research-news {kind.value}",
        **content_model(kind.value).model_json_schema(by_alias=True),
    }
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
