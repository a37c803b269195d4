"""Deep-merging plain scenario data: how policy overlays, ``extends`` and ``--set`` combine."""

from __future__ import annotations

import copy
from typing import Any, Mapping


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Overlay ``overlay`` onto ``base``: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Return a copy of ``data`` with the value at a dotted key path replaced."""
    keys = dotted.split(".")
    overlay: dict[str, Any] = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        overlay = {key: overlay}
    return deep_merge(data, overlay)
