"""The API's JSON parser: a body nested too deeply is a 400 `parse_error`, never a 500.

Python's json module raises RecursionError near 1,000 levels; a body nested fewer levels than that
still makes every recursive consumer (serializers, renderers, schema validators) walk it, so
anything past MAX_JSON_DEPTH is refused as well. No API body needs more than a few levels.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 64


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep."
            ) from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep.")
        return data


def json_depth_exceeds(data, limit: int) -> bool:
    """True when `data` nests lists/objects more than `limit` levels (iterative: no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
