"""Malformed text: control characters, broken YAML, wrong encodings, files that are no YAML (see
:mod:`corpus`). The line a message must name is where PyYAML itself stops, or where the
character was put."""

from __future__ import annotations

import re

from typing import Any

from corpus import Bad, File, shipped, yaml_error_line


# --------------------------------------------------------------------------- broken text


CONTROLS = [("nul", "\x00"), ("bel", "\x07"), ("esc", "\x1b"), ("ansi_red", "\x1b[31m"), ("del", "\x7f"),
            ("vtab", "\x0b"), ("formfeed", "\x0c"), ("backspace", "\x08"), ("nel", "\x85"), ("c1_csi", "\x9b"),
            ("noncharacter", "\ufffe")]
"""Characters that cannot be in a YAML file (only printable text, tabs and line breaks)."""


def _lines(text: bytes) -> list[bytes]:
    return text.split(b"\n")


def _value_lines(text: bytes) -> list[int]:
    """0-based numbers of the lines that hold 'key: value' (not comments, not blank)."""
    return [i for i, ln in enumerate(_lines(text)) if b": " in ln and not ln.lstrip().startswith(b"#")]


def text_cases() -> list[Bad]:
    """Control characters, broken YAML, wrong encodings and files that are no YAML at all."""
    files = shipped()
    cases = []
    for i, (label, char) in enumerate(CONTROLS * 3):
        stem, text, _ = files[i % len(files)]
        rows = _value_lines(text)
        k = rows[(7 * i) % len(rows)]
        lines = _lines(text)
        lines[k] = lines[k] + char.encode("utf-8") + b"x"
        name = f"{stem}__{label}_{i}.yaml"
        cases.append(Bad(f"{stem}:{label}@{k + 1}", {name: b"\n".join(lines)}, name, line=k + 1, also=("U+",)))

    syntax: list[tuple[str, Any]] = [
        ("extra_indent", lambda ls, k: ls.__setitem__(k, b"   " + ls[k])),
        ("tab_indent", lambda ls, k: ls.__setitem__(k, b"\t" + ls[k].lstrip())),
        ("unclosed_flow", lambda ls, k: ls.__setitem__(k, ls[k].split(b": ")[0] + b": {a: [1, 2")),
        ("unclosed_quote", lambda ls, k: ls.__setitem__(k, ls[k].split(b": ")[0] + b': "open')),
        ("two_colons", lambda ls, k: ls.__setitem__(k, ls[k] + b": extra: colon")),
        ("list_in_mapping", lambda ls, k: ls.insert(k + 1, b"- stray item")),
        ("second_document", lambda ls, k: ls.insert(k, b"---\nname: another")),
        ("duplicate_top_key", lambda ls, k: ls.insert(0, b"seed: 1\nseed: 2")),
        ("unknown_alias", lambda ls, k: ls.insert(0, b"x: *nowhere")),
        ("bad_escape", lambda ls, k: ls.insert(0, b'name: "bad \\q escape"')),
    ]
    for i, (label, edit) in enumerate(syntax):
        for stem, text, _ in (files[i % len(files)], files[(i + 3) % len(files)]):
            rows = _value_lines(text)
            k = rows[len(rows) // 2 + i]
            lines = _lines(text)
            edit(lines, k)
            broken = b"\n".join(lines)
            name = f"{stem}__{label}.yaml"
            if label == "duplicate_top_key":  # PyYAML keeps the last; dps_sim names the second of the two
                cases.append(Bad(f"{stem}:{label}", {name: broken}, name, "seed", 2, also=("twice",)))
                continue
            cases.append(Bad(f"{stem}:{label}", {name: broken}, name, line=yaml_error_line(broken) or None))

    stem, text, data = files[0]
    whole: list[tuple[str, bytes, int | None, tuple[str, ...]]] = [
        ("empty", b"", None, ("empty",)), ("only_comments", b"# nothing\n# here\n", None, ("empty",)),
        ("top_level_list", b"- name: A\n- seed: 1\n", 1, ("mapping",)),
        ("top_level_text", b"just some words\n", 1, ("mapping",)), ("null_document", b"null\n", None, ()),
        ("latin1", "# caf\xe9\n".encode("latin-1") + text, 1, ("UTF-8",)),
        ("utf16", text.decode().encode("utf-16"), None, ("UTF-8",)),
        ("binary_garbage", bytes(range(256)) * 4, None, ()),
        ("gzip_bytes", b"\x1f\x8b\x08\x00" + b"\x00" * 64, None, ()),
        ("truncated_flow", text[: re.search(rb"^[^#\n]*\{", text, re.M).end() + 5], None, ()),  # a flow mapping cut short
        ("python_apply", b'name: !!python/object/apply:os.system ["touch PWNED"]\n', 1, ("never loaded",)),
        ("python_name", b"name: x\nhook: !!python/name:os.system\n", 2, ("never loaded",)),
        ("custom_tag", b"name: !secret x\n", 1, ()),
        ("billion_laughs", b"a: &a [x,x,x,x,x,x,x,x,x,x]\n" + b"".join(
            f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n".encode() for p, c in zip("abcdefgh", "bcdefghi")), None,
         ("alias",)),
        ("recursive_alias", b"name: Loop\nloop: &a [1, *a]\n", 2, ("alias",)),
        ("deep_nesting", b"name: " + b"[" * 5000 + b"]" * 5000 + b"\n", None, ()),
        ("over_1_mib", text + b"#" + b"x" * (1 << 20) + b"\n", None, ("larger than",)),
        ("json_array", b'["name", "seed"]\n', 1, ("mapping",)),
    ]
    for label, body, line, also in whole:
        if line is None and label in ("utf16", "binary_garbage", "gzip_bytes", "truncated_flow"):
            line = yaml_error_line(body)
        name = f"{stem}__{label}.yaml"
        cases.append(Bad(f"file:{label}", {name: body}, name, line=line, also=also))
    specials: list[tuple[str, File]] = [("folder", ("dir",)), ("fifo", ("fifo",)),
                                        ("symlink_dev_zero", ("symlink", "/dev/zero")),
                                        ("symlink_shadow", ("symlink", "/etc/shadow")),
                                        ("dangling_symlink", ("symlink", "/nonexistent/x.yaml"))]
    for label, special in specials:
        cases.append(Bad(f"file:{label}", {f"{label}.yaml": special}, f"{label}.yaml", hidden=("root:",)))
    secrets = b"DB_PASSWORD: hunter2\nAPI_KEY: abc123\n"
    cases.append(Bad("file:not_a_scenario", {"settings.yaml": secrets}, "settings.yaml", line=1,
                     hidden=("hunter2", "DB_PASSWORD", "API_KEY"), also=("not a scenario file",)))
    for label, target in [("dev_zero", "/dev/zero"), ("etc_passwd", "/etc/passwd"), ("no_suffix", "scenario.txt")]:
        files_ = {target: text} if not target.startswith("/") else {}
        cases.append(Bad(f"file:{label}", files_, target, hidden=("root:",), also=(".yaml",)))
    return cases
