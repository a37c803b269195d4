"""Reading a YAML file safely: a bounded regular file, printable UTF-8 text, safe YAML with lines.

Flow: the path must name a ``.yaml`` or ``.yml`` regular file (not a folder, device, FIFO or
socket) of at most :data:`MAX_BYTES`, read without blocking; the text must be UTF-8 without
control characters (an error names the line, column and nearest key); then PyYAML's
``SafeLoader`` (no Python tags are ever constructed) gives plain data plus a map from dotted
key path to (file, line). Aliases may not expand a file beyond :data:`MAX_VALUES` values.
Errors never show the content of a file that is not a scenario: a file is read only once its
name and kind say it is one (a symbolic link is judged by its target's name too; a mapping with
no key of a scenario or sweep is refused without listing its keys), and values are quoted only
as short escaped excerpts.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, Iterable

import yaml

from .errors import Problem, ScenarioError
from .keys import indentation_hint

Where = dict[str, tuple[str, int]]
"""Dotted key path → (file, 1-based line) where that key is written; ``""`` is the top-level mapping."""

MAX_VALUES = 1_000_000
"""Most values a file may expand to through aliases (guards against 'billion laughs' files)."""
MAX_BYTES = 1 << 20
"""Largest scenario or sweep file read (1 MiB; the shipped ones are a few kB)."""
SUFFIXES = (".yaml", ".yml")
"""Scenario and sweep files are YAML files named so."""

_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "backspace", 0x0b: "vertical tab", 0x0c: "form feed", 0x1b: "ESC",
                  0x7f: "DEL"}


def check_suffix(path: Path, file: str, key: str | None = None, line: int | None = None) -> None:
    """Refuse, before anything is read from it, a file whose name (or, for a symbolic link, whose target's
    name) does not end in .yaml or .yml, or a name no file can have (a NUL, too long)."""
    if path.suffix.lower() not in SUFFIXES:
        raise ScenarioError.single(file, "not a scenario or sweep file: its name must end in .yaml or .yml",
                                   key, line)
    try:
        target = path.resolve()
        path.stat()  # a name too long for the system fails here, not later
    except FileNotFoundError:
        return
    except (OSError, ValueError, RuntimeError) as exc:
        why = "it holds a NUL character" if "\0" in str(path) else getattr(exc, "strerror", None) or "a link loop"
        raise ScenarioError.single(file, f"not a usable file name ({why})", key, line) from None
    if target.suffix.lower() not in SUFFIXES:
        raise ScenarioError.single(file, "not a scenario or sweep file: it links to a file whose name does not end "
                                         "in .yaml or .yml", key, line)


def check_kind(data: dict[str, Any], file: str, known: Iterable[str], what: str) -> None:
    """Refuse a mapping none of whose keys is a key of a ``what`` file (say, a password file saved as .yaml),
    without showing its keys: they are another file's content."""
    if data and not set(map(str, data)) & set(known):
        examples = ", ".join(list(known)[:3])
        raise ScenarioError.single(file, f"not a {what} file: none of its keys is a {what} key (such as {examples})",
                                   line=1)


def read_bounded(path: Path, file: str, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; a folder, device, FIFO or socket is refused
    without blocking or reading it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ScenarioError.single(file, "file not found") from None
    except IsADirectoryError:
        raise ScenarioError.single(file, "is a folder, not a YAML file") from None
    except OSError as exc:
        raise ScenarioError.single(file, f"cannot read file: {exc.strerror or type(exc).__name__}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError.single(file, "is a folder, not a YAML file")
        if not stat.S_ISREG(mode):
            raise ScenarioError.single(file, "is not a regular file (a device, FIFO or socket): give a YAML file")
        if os.fstat(fd).st_size > limit:
            raise ScenarioError.single(file, f"file is larger than {limit:,} bytes: not a scenario or sweep file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise ScenarioError.single(file, f"file is larger than {limit:,} bytes: not a scenario or sweep file")
        return b"".join(chunks)
    except OSError as exc:
        raise ScenarioError.single(file, f"cannot read file: {exc.strerror or type(exc).__name__}") from None
    finally:
        os.close(fd)


def decode_text(data: bytes, file: str) -> str:
    """UTF-8 text without control characters, or an error naming the line, column and nearest key."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ScenarioError.single(file, f"cannot read file: not UTF-8 text (byte {data[exc.start]:#x}); "
                                         "save it as UTF-8", line=line) from None
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        before = text[:bad.start()]
        line = before.count("\n") + 1
        column = bad.start() - (before.rfind("\n") + 1) + 1
        code = ord(bad.group())
        name = _CONTROL_NAMES.get(code, "control character" if code < 0xa0 else "non-character")
        key = _key_near_error(before, last_key=True)
        raise ScenarioError(Problem(file, key, line, f"character U+{code:04X} ({name}) at column {column} cannot be "
                                                      "in a YAML file: remove it (only printable text, tabs and "
                                                      "line breaks)", near=key is not None))
    return text


def read_yaml(path: str | Path) -> tuple[dict[str, Any], Where]:
    """Parse a YAML file's mapping safely; return the data and where each key is written."""
    path = Path(path)
    file = str(path)
    check_suffix(path, file)
    text = decode_text(read_bounded(path, file), file)
    return parse_yaml(text, file)


class _Loader(yaml.SafeLoader):
    """PyYAML's SafeLoader with YAML 1.2 booleans (true/false only)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def parse_yaml(text: str, file: str) -> tuple[dict[str, Any], Where]:
    """Parse YAML text holding one mapping; return the data and where each key is written."""
    loader = None
    where: Where = {}
    starts: dict[tuple[int, int], str] = {}
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError.single(file, "file is empty: expected a mapping of keys such as 'name:'")
        _check_expansion(node, file)
        _walk(node, "", file, where, starts)
        if isinstance(node, yaml.MappingNode):
            where[""] = (file, node.start_mark.line + 1)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or str(exc)
        if exc.context and exc.problem:
            started = exc.context_mark.line + 1 if exc.context_mark is not None else None
            context = exc.context + (f" that starts on line {started}" if started not in (None, line) else "")
            what = f"{context}, {what}" if what.startswith("but ") else f"{what} ({context})"
        if "another document" in what:
            what += " (a '---' line starts a second document; a scenario file holds one)"
        what += indentation_hint(what)
        if "python" in str(exc):
            what = f"{what}. Python tags (!!python/...) are never loaded: write plain values"
        if isinstance(exc, yaml.constructor.ConstructorError) and mark is not None:
            key, near = starts.get((mark.line, mark.column)), False  # the value that cannot be constructed
        else:
            key = _key_near_error(text)  # a syntax error: the key being read when the parser stopped
            near = key is not None
        raise ScenarioError(Problem(file, key, line, f"YAML cannot be read: {what}", near=near)) from None
    except yaml.reader.ReaderError as exc:
        raise ScenarioError.single(file, f"YAML cannot be read: character {exc.character!r} is not allowed",
                                   line=text[:max(exc.position, 0)].count("\n") + 1) from None
    except yaml.YAMLError as exc:
        raise ScenarioError.single(file, f"YAML cannot be read: {type(exc).__name__}") from None
    except RecursionError:
        raise ScenarioError.single(file, "YAML cannot be read: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise ScenarioError.single(file, f"expected a mapping of keys at the top level, got {type(data).__name__}", line=1)
    return data, where


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Reject aliases that refer to their own container, or expand the file beyond MAX_VALUES."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise ScenarioError.single(file, "an alias (*name) is used inside the mapping or list its anchor (&name) "
                                             "marks", line=node.start_mark.line + 1)
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        open_nodes.discard(key)
        if total > MAX_VALUES:
            raise ScenarioError.single(file, f"aliases (*name) expand this file to more than {MAX_VALUES:,} values",
                                       line=node.start_mark.line + 1)
        sizes[key] = total
        return total

    size(root)


def _walk(node: yaml.Node, prefix: str, file: str, where: Where, starts: dict | None = None) -> None:
    """Record the line of every key and list item below ``node``; reject duplicate keys.

    ``starts``, if given, maps the (line, column) where each value starts to its key path.
    """
    if starts is not None and prefix:
        starts.setdefault((node.start_mark.line, node.start_mark.column), prefix)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            path = f"{prefix}.{key}" if prefix else key
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ScenarioError.single(file, f"key '{key}' appears twice (first on line {seen[key]})", path=path,
                                           line=line)
            seen[key] = line
            where[path] = (file, line)
            _walk(value_node, path, file, where, starts)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = f"{prefix}.{i}"
            where[path] = (file, item.start_mark.line + 1)
            _walk(item, path, file, where, starts)


def _key_near_error(text: str, last_key: bool = False) -> str | None:
    """The dotted path of the key being read when a YAML syntax error stopped the parser
    (``last_key``: of the last key read in ``text``, however the text ends)."""
    loader = _Loader(text)
    last: str | None = None
    frames: list[list[Any]] = []  # [is_mapping, current key or list index, next node is a key]
    node_events = (yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)
    try:
        while True:
            event = loader.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frames.pop()
                if frames and frames[-1][0]:
                    frames[-1][2] = True
                continue
            if not isinstance(event, node_events):
                continue
            top = frames[-1] if frames else None
            if top is not None and top[0] and top[2]:  # a key
                if not isinstance(event, yaml.ScalarEvent):
                    return None  # a complex key: give up rather than guess
                top[1], top[2] = event.value, False
                last = ".".join(str(f[1]) for f in frames if f[1] is not None and f[1] != -1)
                continue
            if top is not None and not top[0]:
                top[1] += 1
            if isinstance(event, yaml.MappingStartEvent):
                frames.append([True, None, True])
            elif isinstance(event, yaml.SequenceStartEvent):
                frames.append([False, -1, False])
            elif top is not None and top[0]:
                top[2] = True
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    if last_key:
        return last
    parts = [str(f[1]) for f in frames if f[1] is not None and f[1] != -1]
    return ".".join(parts) or None


