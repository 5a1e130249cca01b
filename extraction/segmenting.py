"""A profile's long-document settings (#14): how each top-level array is extracted, which pages
answer the other fields when the whole document cannot, and the map-reduce option.

Stored as JSON on the profile (and snapshotted on each run):

    {"arrays": {"line_items": {"mode": "segmented", "pages": 10, "overlap": 1}},
     "other_fields": {"first_pages": 2, "last_pages": 1},
     "map_reduce": {"pages": 50}}

Every key is optional. An array not listed is `whole` (one call over the whole document, as
before). A `segmented` array is asked for in segments of `pages` pages, consecutive segments
sharing `overlap` pages (a table cut by a page break is seen whole once). `map_reduce` (profiles
without segmented arrays): a document over every model's limits is answered per segment of
`pages` pages, then one combining call over those answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extraction.errors import InvalidSegmenting

WHOLE, SEGMENTED = "whole", "segmented"
# The smallest per-request page limit of the providers (OpenAI and Anthropic: 100 pages).
MAX_SEGMENT_PAGES = 100
DEFAULT_OTHER_FIELDS = {"first_pages": 2, "last_pages": 1}


@dataclass(frozen=True)
class ArraySetting:
    name: str
    pages: int
    overlap: int


@dataclass(frozen=True)
class Segmenting:
    arrays: tuple[ArraySetting, ...] = ()  # the segmented arrays only
    first_pages: int = DEFAULT_OTHER_FIELDS["first_pages"]
    last_pages: int = DEFAULT_OTHER_FIELDS["last_pages"]
    map_reduce_pages: int | None = None
    names: frozenset[str] = field(default_factory=frozenset)

    @property
    def segmented(self) -> bool:
        return bool(self.arrays)

    @property
    def map_reduce(self) -> bool:
        return self.map_reduce_pages is not None and not self.arrays

    def needs_segments(self, page_count: int) -> bool:
        """Whether a document of `page_count` pages is longer than one segment of an array."""
        return any(page_count > a.pages for a in self.arrays)


def _int(value, where: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSegmenting(
            f"{where} must be a whole number from {low} to {high}.", path=where, value=value
        )
    return value


def _object(value, where: str, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise InvalidSegmenting(f"{where} must be a JSON object.", path=where)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidSegmenting(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))}).",
            path=f"{where}/{unknown[0]}",
        )
    return value


def _top_level_arrays(schema: dict) -> set[str]:
    properties = (schema or {}).get("properties") or {}
    return {
        name
        for name, prop in properties.items()
        if isinstance(prop, dict)
        and (
            prop.get("type") == "array"
            or (isinstance(prop.get("type"), list) and "array" in prop["type"])
        )
    }


def parse(value, *, schema: dict) -> Segmenting:
    """The settings, validated against the profile's schema; raises InvalidSegmenting (400)
    with the offending key's path."""
    if value in (None, {}):
        return Segmenting()
    value = _object(value, "segmenting", {"arrays", "other_fields", "map_reduce"})
    arrays = []
    declared = value.get("arrays", {})
    declared = _object(declared, "arrays", set(declared) if isinstance(declared, dict) else set())
    known = _top_level_arrays(schema)
    for name, setting in declared.items():
        where = f"arrays/{name}"
        if name not in known:
            raise InvalidSegmenting(
                f"{where}: {name!r} is not a top-level array of the schema "
                f"(arrays: {', '.join(sorted(known)) or 'none'}).",
                path=where,
            )
        setting = _object(setting, where, {"mode", "pages", "overlap"})
        mode = setting.get("mode", SEGMENTED)
        if mode not in (WHOLE, SEGMENTED):
            raise InvalidSegmenting(f"{where}/mode must be 'whole' or 'segmented'.", path=where)
        if mode == WHOLE:
            continue
        pages = _int(setting.get("pages", 10), f"{where}/pages", low=1, high=MAX_SEGMENT_PAGES)
        overlap = _int(setting.get("overlap", 1), f"{where}/overlap", low=0, high=pages - 1)
        if pages + overlap > MAX_SEGMENT_PAGES:
            raise InvalidSegmenting(
                f"{where}: pages + overlap must stay within {MAX_SEGMENT_PAGES} (every "
                "provider's page limit).",
                path=where,
            )
        arrays.append(ArraySetting(name=name, pages=pages, overlap=overlap))
    other = _object(value.get("other_fields", {}), "other_fields", {"first_pages", "last_pages"})
    first = _int(other.get("first_pages", 2), "other_fields/first_pages", low=1, high=50)
    last = _int(other.get("last_pages", 1), "other_fields/last_pages", low=0, high=50)
    map_pages = None
    if value.get("map_reduce") is not None:
        options = _object(value["map_reduce"], "map_reduce", {"pages"})
        map_pages = _int(
            options.get("pages", 50), "map_reduce/pages", low=1, high=MAX_SEGMENT_PAGES
        )
        if arrays:
            raise InvalidSegmenting(
                "map_reduce is for profiles without segmented arrays: declare the arrays "
                "'whole', or drop map_reduce.",
                path="map_reduce",
            )
    return Segmenting(
        arrays=tuple(arrays),
        first_pages=first,
        last_pages=last,
        map_reduce_pages=map_pages,
        names=frozenset(a.name for a in arrays),
    )


def of_run(run) -> Segmenting:
    """A run's snapshot of the settings (validated when its profile was saved)."""
    try:
        return parse(getattr(run, "segmenting", None) or {}, schema=run.schema)
    except InvalidSegmenting:
        return Segmenting()  # a snapshot the schema no longer matches: the single call
