"""Quick what-ifs: ``--set KEY.PATH=VALUE`` values written into a scenario before its policies.

Each value is read as YAML with the same safe loader as the files (so ``true``, ``12``, ``null``,
``monthly_arrears``, ``[12, 12]`` and ``{median: 120000, sigma: 0.3}`` mean what they mean in a
file). It is set on the scenario as the file gives it, before any policy overlay, and the whole is
then validated like the file: an error names the ``--set`` it comes from. A mapping value merges
into the section like a policy overlay; anything else replaces the value. A misspelt key gets
"did you mean".
"""

from __future__ import annotations

import copy
import dataclasses
import json
import types
from typing import Any, Mapping, Sequence, Union, get_args, get_origin

import yaml
from pydantic import BaseModel

from .errors import ScenarioError
from .keys import _union_member, homes, strip_annotation
from .merge import deep_merge
from .names import closest, did_you_mean, excerpt
from .schema import Scenario
from .yamlfile import Where, _Loader

NOT_SETTABLE = {
    "policies": "policies cannot be set with --set: choose them with --policy / --policies, or write a file that "
                "'extends' this one",
    "extends": "'extends' cannot be set with --set: write a file that extends the other one",
}


def label(key: str, value: Any) -> str:
    """How an override is named in messages and in the report: ``--set key=value``."""
    return f"--set {key}={_short(value if isinstance(value, str) else json.dumps(value, default=str))}"


def _short(text: str) -> str:
    """``text`` as printable and at most 80 characters (an excerpt without its quotes)."""
    return excerpt(text, 80)[1:-1]


def parse_sets(texts: Sequence[str]) -> dict[str, Any]:
    """``['a.b=1', 'c=x']`` → ``{'a.b': 1, 'c': 'x'}``; the values are read as YAML (safe loader)."""
    out: dict[str, Any] = {}
    for text in texts:
        key, eq, raw = text.partition("=")
        key = key.strip()
        name = f"--set {_short(text)}"
        if not eq or not key:
            raise ScenarioError.single(name, "expected KEY.PATH=VALUE, for example "
                                             "--set contracts.payment.terms=monthly_arrears")
        try:
            value = yaml.load(raw, Loader=_Loader) if raw.strip() else None  # _Loader is a SafeLoader
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise ScenarioError.single(name, f"the value cannot be read as YAML: {problem} (quote text holding "
                                             "':', '#', '{' or '[')", key) from None
        if key in out:
            raise ScenarioError.single(name, f"'{key}' is set twice", key)
        out[key] = value
    return out


def _fault(key: str, value: Any, path: str, message: str) -> ScenarioError:
    return ScenarioError.single(label(key, value), message, path)


def _check_key(key: str, value: Any, data: Mapping[str, Any]) -> list[str | int]:
    """The parts of ``key`` (list indices as ints) if it names a value or section of the scenario."""
    parts = key.split(".")
    if parts[0] in NOT_SETTABLE:
        raise _fault(key, value, parts[0], NOT_SETTABLE[parts[0]])
    ann: Any = Scenario
    node: Any = data
    out: list[str | int] = []
    for i, part in enumerate(parts):
        here, above = ".".join(parts[:i + 1]), ".".join(parts[:i])
        ann = strip_annotation(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            fields = list(ann.model_fields)
            if part not in fields:
                found = homes(ann, part) if closest(part, fields) is None else []
                hint = (f"; it is a key of {' and of '.join(f'{above}.{h}'.lstrip('.') for h in found[:3])}" if found
                        else did_you_mean(part, fields, fields, "it takes"))
                raise _fault(key, value, here, f"unknown key: {above or 'the scenario'} has no key '{part}'" + hint)
            ann = ann.model_fields[part].annotation
            node = node.get(part) if isinstance(node, Mapping) else None
            out.append(part)
        elif get_origin(ann) in (tuple, list):
            items = list(node) if isinstance(node, (list, tuple)) else []
            if not items:
                raise _fault(key, value, here, f"'{above}' is empty in this scenario: set the whole list, "
                                               f"e.g. --set {above}=[...]")
            if not part.isdigit() or int(part) >= len(items):
                raise _fault(key, value, here, f"'{above}' is a list of {len(items)}: give an item number from 0 to "
                                               f"{len(items) - 1}")
            node = items[int(part)]
            ann = strip_annotation(get_args(ann)[0])
            if get_origin(ann) in (Union, types.UnionType) and isinstance(node, Mapping):
                ann = _union_member(ann, str(node.get("type")))
            out.append(int(part))
        else:
            raise _fault(key, value, here, f"'{above}' is a value, not a section: write --set {above}=VALUE")
    return out


def apply_overrides(data: dict[str, Any], where: Where, overrides: Mapping[str, Any]) -> tuple[dict[str, Any], Where]:
    """``data`` with every override set (in order), and ``where`` naming the ``--set`` for each key set."""
    data, where = copy.deepcopy(data), dict(where)
    for key, value in overrides.items():
        parts = _check_key(key, value, data)
        node: Any = data
        for part in parts[:-1]:
            if isinstance(part, int):
                node[part] = dict(node[part])
                node = node[part]
            else:
                child = node.get(part)
                node[part] = list(child) if isinstance(child, (list, tuple)) else \
                    dict(child) if isinstance(child, Mapping) else {}
                node = node[part]
        last = parts[-1]
        old = node[last] if isinstance(last, int) else node.get(last)
        node[last] = deep_merge(old, value) if isinstance(old, Mapping) and isinstance(value, Mapping) else \
            copy.deepcopy(value)
        named = label(key, value)
        if not (isinstance(old, Mapping) and isinstance(value, Mapping)):
            for k in [k for k in where if k.startswith(key + ".")]:
                del where[k]
        for k in _flat_keys(key, value):
            where[k] = (named, None)  # type: ignore[assignment]  # no line: it comes from the command line
    return data, where


def _flat_keys(key: str, value: Any) -> list[str]:
    """``key`` and the dotted keys of every mapping inside ``value``."""
    keys = [key]
    if isinstance(value, Mapping):
        for k, v in value.items():
            keys += _flat_keys(f"{key}.{k}", v)
    return keys


def blame(error: ScenarioError, overrides: Mapping[str, Any]) -> ScenarioError:
    """``error`` with each problem about a section an override changed saying so (the file is not the cause alone)."""
    problems = []
    for p in error.problems:
        keys = [k for k in overrides if p.path and not p.file.startswith("--set ")
                and (k == p.path or k.startswith(p.path + ".") or p.path.startswith(k + "."))]
        problems.append(dataclasses.replace(p, message=f"{p.message} (with {', '.join(label(k, overrides[k]) for k in keys)})")
                        if keys else p)
    return ScenarioError(problems)


def describe(overrides: Mapping[str, Any]) -> list[str]:
    """``['key=value', ...]`` as the report and the resolved scenario show them."""
    return [label(k, v).removeprefix("--set ") for k, v in overrides.items()]


