"""JSON Schemas written by staff, made safe to validate untrusted answers against.

- Regular expressions (`pattern`, `patternProperties`) run on RE2, a linear-time engine: a
  pattern such as `^([A-Z0-9]+-?)+$` cannot make a worker backtrack for minutes. A pattern RE2
  cannot compile (back-references, look-around) is refused when the profile is saved.
- References are local (`#…`) and never retrieved: a remote `$ref` is refused at save, and the
  validators use a registry that refuses to fetch anything.
- A reference cycle (`{"$ref": "#"}`, or `#/$defs/a` → `#/$defs/b` → `#/$defs/a`) is refused at
  save: it recurses in validation (and no provider's structured output takes one).

`schema_problems(schema)` is the save-time check; `schema_validator(schema)` the validator every
place that validates data against a profile schema uses.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import jsonschema
import re2
from jsonschema import ValidationError
from jsonschema.validators import extend, validator_for
from referencing import Registry
from referencing.exceptions import NoSuchResource

REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
MAX_PATTERN_CHARS = 1000
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = 8 << 20  # bytes of compiled program; `a{1000}{1000}` does not fit
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported to the caller, not to stderr


def _refuse_retrieval(uri: str):
    raise NoSuchResource(ref=uri)


# Every validator gets this registry: nothing is ever fetched (jsonschema's default still
# retrieves remote references over HTTP, with no timeout).
NO_RETRIEVAL = Registry(retrieve=_refuse_retrieval)


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str):
    """RE2 program for a JSON Schema pattern; ValueError when RE2 cannot take it."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"longer than {MAX_PATTERN_CHARS} characters")
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        raise ValueError(str(exc) or "not supported by a linear-time regex engine") from None


def _search(pattern: str, text: str) -> bool:
    return compile_pattern(pattern).search(text) is not None


# --- keywords on RE2 (jsonschema's own use Python's backtracking `re`) ------------------------


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        key
        for key in instance
        if key not in known and not any(_search(pattern, key) for pattern in patterns)
    ]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        listed = ", ".join(repr(extra) for extra in sorted(extras))
        verb = "was" if len(extras) == 1 else "were"
        yield ValidationError(f"Additional properties are not allowed ({listed} {verb} unexpected)")


_RE2_KEYWORDS = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
}


@functools.cache
def _safe_class(base):
    return extend(base, _RE2_KEYWORDS)


def schema_validator(schema: dict, *, format_checker: bool = False):
    """A validator for `schema` (its `$schema` draft, 2020-12 by default) with RE2 patterns and
    no retrieval of references."""
    base = validator_for(schema, default=jsonschema.Draft202012Validator)
    cls = _safe_class(base)
    checker = base.FORMAT_CHECKER if format_checker else None
    return cls(schema, registry=NO_RETRIEVAL, format_checker=checker)


# --- the save-time check ------------------------------------------------------------------------


def schema_problems(schema: Any) -> list[tuple[str, str]]:
    """(JSON pointer, problem) for each unsafe part of `schema`; [] when it is safe."""
    problems: list[tuple[str, str]] = []
    refs: list[tuple[str, str]] = []
    for pointer, node in _subschemas(schema):
        for keyword in REF_KEYWORDS:
            ref = node.get(keyword)
            if ref is None:
                continue
            if not isinstance(ref, str) or not ref.startswith("#"):
                problems.append(
                    (
                        pointer,
                        f"{keyword} {ref!r} is not local: only references within the "
                        "schema (#/…) are allowed, and none is ever fetched",
                    )
                )
            else:
                refs.append((pointer, ref))
        if "$id" in node and pointer:
            problems.append((pointer, "$id is allowed only at the top level"))
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            problems.extend(_pattern_problem(f"{pointer}/pattern", pattern))
        pattern_properties = node.get("patternProperties")
        if isinstance(pattern_properties, dict):
            for key in pattern_properties:
                problems.extend(_pattern_problem(f"{pointer}/patternProperties", key))
            if _uses_unevaluated(schema):
                problems.append(
                    (pointer, "patternProperties cannot be combined with unevaluatedProperties")
                )
    if not problems:
        problems.extend(_ref_cycles(schema, refs))
    return problems


def _pattern_problem(pointer: str, pattern: str) -> list[tuple[str, str]]:
    try:
        compile_pattern(pattern)
    except ValueError as exc:
        return [(pointer, f"pattern {pattern!r} is not supported ({exc}); use RE2 syntax")]
    return []


def _uses_unevaluated(schema) -> bool:
    return any("unevaluatedProperties" in node for _, node in _subschemas(schema))


def _subschemas(schema: Any) -> Iterator[tuple[str, dict]]:
    """Every JSON object inside `schema` with its JSON pointer (iteratively: no recursion)."""
    stack: list[tuple[str, Any]] = [("", schema)]
    while stack:
        pointer, node = stack.pop()
        if isinstance(node, dict):
            yield pointer, node
            children = node.items()
        elif isinstance(node, list):
            children = enumerate(node)
        else:
            continue
        for key, child in children:
            if isinstance(child, dict | list):
                escaped = str(key).replace("~", "~0").replace("/", "~1")
                stack.append((f"{pointer}/{escaped}", child))


def _ref_cycles(schema: Any, refs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A reference that leads back, through references, to a schema containing it."""
    anchors = {
        f"#{node['$anchor']}": pointer
        for pointer, node in _subschemas(schema)
        if isinstance(node.get("$anchor"), str)
    }
    problems = []

    def target_of(ref: str) -> str | None:
        if ref in anchors:
            return anchors[ref]
        pointer = ref[1:]
        return pointer if _resolves(schema, pointer) else None

    for pointer, ref in refs:
        if target_of(ref) is None:
            problems.append((pointer, f"$ref {ref!r} points to nothing in the schema"))
    if problems:
        return problems

    def refs_within(target: str) -> list[tuple[str, str]]:
        return [(p, r) for p, r in refs if p == target or p.startswith(target + "/")]

    # Depth-first over targets (each visited once): a target met again while still on the
    # current path is a cycle.
    done: set[str] = set()
    for _, start_ref in refs:
        root = target_of(start_ref)
        if root in done:
            continue
        path, on_path = [root], {root}
        stack = [iter(refs_within(root))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                done.add(path.pop())
                on_path = set(path)
                continue
            target = target_of(step[1])
            if target in on_path:
                return [(step[0], f"$ref {step[1]!r} is recursive (a reference cycle)")]
            if target in done:
                continue
            path.append(target)
            on_path.add(target)
            stack.append(iter(refs_within(target)))
    return []


def _resolves(schema: Any, pointer: str) -> bool:
    node = schema
    for part in pointer.split("/")[1:] if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True
