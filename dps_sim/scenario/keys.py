"""Which keys a scenario section takes, and plain-words hints for the commonest mistakes.

A misspelt key gets the nearest key the section takes ("did you mean"), a number where a
distribution such as ``lot_value`` is expected gets the mapping to write instead, and a YAML
indentation error gets a hint about columns. Used for scenario files and for ``--set``.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Sequence, Union, get_args, get_origin

from pydantic import BaseModel

from .names import closest, did_you_mean, excerpt

_INDENTATION = ("expected <block end>", "mapping values are not allowed here", "could not find expected ':'",
                "did not find expected key", "expected a block mapping", "found character '\\t'")
INDENTATION_HINT = ("hint: check the indentation of this line and the one above it: the keys of one section start "
                    "in the same column, a key's contents are indented further (spaces, not tabs), and a value "
                    "holding ': ' needs quotes")


def strip_annotation(ann: Any) -> Any:
    """The annotation without Annotated[...] and Optional[...] wrappers."""
    while True:
        origin = get_origin(ann)
        if origin is Annotated:
            ann = get_args(ann)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann
            ann = args[0]
        else:
            return ann


def _union_member(ann: Any, tag: str) -> type[BaseModel] | None:
    """The member of a tagged union (shocks) whose ``type`` is ``tag``."""
    for member in get_args(ann):
        member = strip_annotation(member)
        if isinstance(member, type) and issubclass(member, BaseModel) and "type" in member.model_fields:
            if tag in get_args(strip_annotation(member.model_fields["type"].annotation)):
                return member
    return None


def model_at(root: type[BaseModel], loc: Sequence[Any]) -> Any:
    """The annotation found by following ``loc`` (pydantic's error location: field names, list indices,
    union tags) from ``root``; None if the path leaves the schema."""
    ann: Any = root
    for part in loc:
        ann = strip_annotation(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if part not in ann.model_fields:
                return None
            ann = ann.model_fields[part].annotation
        elif get_origin(ann) in (tuple, list) and isinstance(part, int):
            ann = get_args(ann)[0]
        elif get_origin(ann) in (Union, types.UnionType) and isinstance(part, str):
            ann = _union_member(ann, part)
        elif get_origin(ann) is dict:
            ann = get_args(ann)[1] if get_args(ann) else Any
        else:
            return None
    return strip_annotation(ann)


def section_keys(root: type[BaseModel], loc: Sequence[Any]) -> list[str] | None:
    """The keys the section at ``loc`` takes, or None if it is not a section of fixed keys."""
    ann = model_at(root, loc)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return list(ann.model_fields)
    return None


def homes(root: type[BaseModel], key: str, prefix: str = "") -> list[str]:
    """Dotted paths of the sections (below ``root``, through nested sections only) that take ``key``."""
    found = []
    for name, field in root.model_fields.items():
        ann = strip_annotation(field.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            path = f"{prefix}{name}"
            if key in ann.model_fields:
                found.append(path)
            found += homes(ann, key, path + ".")
    return found


def unknown_key_message(root: type[BaseModel] | None, loc: Sequence[Any]) -> str:
    """'unknown key (did you mean ...?)' for the last part of ``loc``; if the key belongs to another
    section (a line indented wrongly), which one; else the keys its section takes."""
    keys = section_keys(root, loc[:-1]) if root is not None else None
    if not keys or root is None:
        return "unknown key (check the spelling; `dps-sim schema` lists every key)"
    key = str(loc[-1])
    near = closest(key, keys)
    if near:
        return f"unknown key (did you mean '{near}'?)"
    elsewhere = [h for h in homes(root, key) if h != ".".join(map(str, loc[:-1]))]
    if elsewhere and not any(isinstance(p, int) for p in loc):
        return (f"unknown key here: '{key}' belongs under {' or '.join(elsewhere[:3])}; move it there, or check this "
                "line's indentation (a section's keys are indented under it)")
    return "unknown key" + did_you_mean(key, keys, keys, "this section takes")


def section_type_message(root: type[BaseModel], loc: Sequence[Any], value: Any) -> str | None:
    """For a plain value where a section of keys is expected: what to write instead (None if not that case)."""
    ann = model_at(root, loc)
    if not (isinstance(ann, type) and issubclass(ann, BaseModel)) or isinstance(value, dict):
        return None
    if value is None:
        return (f"nothing is written under this key: indent its keys ({', '.join(list(ann.model_fields)[:4])}, ...) "
                "under it, or remove the line to keep the defaults")
    if ann.__name__ == "LogNormal" and isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        return (f"expected a distribution {{median: ..., sigma: ...}}, got the number {shown}: write "
                f"{{median: {shown}, sigma: 0.5}} for values spread around {shown} (sigma is the spread of the "
                f"log; the default is 0.5), or {{median: {shown}, sigma: 0}} for exactly {shown} every time")
    keys = ", ".join(ann.model_fields)
    return f"expected a section of keys ({keys}), got {excerpt(value)}"


def indentation_hint(problem: str) -> str:
    """A hint to append to a YAML syntax error that is usually bad indentation (else '')."""
    return f"; {INDENTATION_HINT}" if any(p in problem for p in _INDENTATION) else ""
