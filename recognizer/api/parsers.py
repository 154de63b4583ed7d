"""Request bodies the API reads. DRF's JSON parser, with a bound on how deeply the JSON may nest.

Python's parser recurses once per level: a body of 1000 nested brackets (a few kilobytes) made it raise
RecursionError, a server error. No request of this API nests more than a couple of levels.
"""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32


def json_depth(value, *, stop_at: int) -> int:
    """How deeply lists and objects nest in a parsed JSON value (a number or a string: 0), counted without
    recursion, and only as far as `stop_at`."""
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= stop_at:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in item)
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(
            gettext("The JSON is nested too deeply: at most %(depth)d levels.") % {"depth": MAX_JSON_DEPTH},
            code="too_deep",
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth(data, stop_at=MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise too_deep
        return data
