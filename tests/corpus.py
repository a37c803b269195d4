"""A generated corpus of malformed scenario files, made by mutating the shipped scenarios.

Issue 14 asks for "a test corpus of at least 250 malformed scenario and sweep files (generated in
tests, each kind above among them)": wrong types, infinite, not-a-number and huge numbers,
negatives, unknown keys, broken YAML, control characters, NUL, ``extends`` to files that are no
scenario, unsafe policy names. Each :class:`Bad` says which file must be named, and where it
can be known independently of dps_sim (PyYAML's own nodes and errors), the key path and line.
Broken text is in :mod:`corpus_text`, sweep mutations in :mod:`corpus_sweeps`. Used by ``test_corpus.py``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_origin

import yaml
from pydantic import BaseModel

from dps_sim.scenario.keys import strip_annotation
from dps_sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
INF, NAN = float("inf"), float("nan")

File = Union[bytes, tuple]
"""A file's bytes, or ("symlink", target), ("fifo",) or ("dir",)."""


@dataclass(frozen=True)
class Bad:
    """One malformed input: the files to write, the one to pass, and what the message must name."""

    id: str
    files: dict[str, File]
    arg: str
    path: str | None = None        # key path the message must name ("at key" or "near key")
    line: int | None = None        # line the message must name
    named: str | None = None       # file the message must name (default: arg)
    hidden: tuple[str, ...] = ()   # text the message must not show (another file's content)
    runnable: bool = True          # also try `run --reps 1` (a scenario) or `sweep` (a sweep)
    kind: str = "scenario"
    near: bool = False
    also: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- helpers


def dump(data: dict) -> bytes:
    """YAML in block style, one key a line (so that the line of every key is plain)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100_000).encode("utf-8")


def key_line(text: bytes, path: str) -> int:
    """The 1-based line of the key (or list item) at a dotted path, found with PyYAML's own nodes
    (a key may hold dots itself, as a sweep's parameter names do: the longest match wins)."""
    node = yaml.compose(text.decode("utf-8"))
    parts, line = path.split("."), 1
    while parts:
        if isinstance(node, yaml.MappingNode):
            keys = {k.value: (k, v) for k, v in node.value}
            n = next((n for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in keys), None)
            if n is None:
                raise KeyError(path)
            k, node = keys[".".join(parts[:n])]
            line, parts = k.start_mark.line + 1, parts[n:]
        elif isinstance(node, yaml.SequenceNode):
            node = node.value[int(parts[0])]
            line, parts = node.start_mark.line + 1, parts[1:]
        else:
            raise KeyError(path)
    return line


def prefix_line(text: bytes, path: str) -> int:
    """The line of the longest prefix of a dotted path that the text writes (where a message points)."""
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        try:
            return key_line(text, ".".join(parts[:n]))
        except (KeyError, IndexError, ValueError):
            continue
    return 1


def yaml_error_line(text: bytes) -> int | None:
    """The line where PyYAML itself stops on a syntax error, or of the first byte that is not UTF-8
    (None if it parses)."""
    try:
        yaml.safe_load(text.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return text[:exc.start].count(b"\n") + 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return mark.line + 1 if mark is not None else None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        return text.decode("utf-8")[:exc.position].count("\n") + 1
    return None


def setp(data: dict, path: str, value: Any) -> dict:
    """A deep copy of ``data`` with ``value`` at a dotted path (missing mappings created)."""
    out = copy.deepcopy(data)
    node = out
    keys = path.split(".")
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            node[k] = {}
        node = node[k]
    node[keys[-1]] = value
    return out


def leaves(model: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, Any]]:
    """Every leaf field of the scenario schema, as (dotted path, annotation)."""
    out = []
    for name, f in model.model_fields.items():
        ann = strip_annotation(f.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += leaves(ann, f"{prefix}{name}.")
        else:
            out.append((f"{prefix}{name}", ann))
    return out


def shipped() -> list[tuple[str, bytes, dict]]:
    """(stem, text, data) of every shipped scenario that stands alone (a file that ``extends`` another
    would be copied without its parent, so its mutations would fail for that reason instead)."""
    files = [(p.stem, p.read_bytes(), yaml.safe_load(p.read_text(encoding="utf-8"))) for p in SHIPPED]
    return [f for f in files if "extends" not in f[2]]


# --------------------------------------------------------------------------- value mutations

NUMBER_VALUES: list[tuple[str, Any]] = [("inf", INF), ("minus_inf", -INF), ("nan", NAN), ("1e308", 1e308),
                                        ("negative", -1), ("huge", 10**12), ("text", "lots"), ("list", [1, 2]),
                                        ("mapping", {"value": 1}), ("minus_1e308", -1e308)]
"""Values no number field takes: not finite, beyond every bound, negative, or not a number at all."""


def _value_case(stem: str, data: dict, path: str, label: str, value: Any, also: tuple[str, ...] = ()) -> Bad:
    text = dump(setp(data, path, value))
    name = f"{stem}__{path}__{label}.yaml"
    return Bad(f"{stem}:{path}={label}", {name: text}, name, path, key_line(text, path), also=also)


def value_cases() -> list[Bad]:
    """Two bad values for every number of the schema, one each for texts, choices and switches,
    spread over the shipped scenarios."""
    files = shipped()
    cases: list[Bad] = []
    numbers = [(p, a) for p, a in leaves() if a in (int, float)]
    for i, (path, ann) in enumerate(numbers):
        for j in (2 * i, 2 * i + 1):
            label, value = NUMBER_VALUES[j % len(NUMBER_VALUES)]
            if path == "seed" and label == "huge":
                value = 2**70  # a seed takes any 64-bit number
            stem, _, data = files[j % len(files)]
            cases.append(_value_case(stem, data, path, label, value))
    choices = [(p, a) for p, a in leaves() if get_origin(a) is Literal]
    switches = [(p, a) for p, a in leaves() if a is bool]
    for i, (path, _) in enumerate(choices + switches):
        stem, _, data = files[i % len(files)]
        for label, value in (("bogus", "sometimes"), ("number", 2)):
            cases.append(_value_case(stem, data, path, label, value))
    stem, _, data = files[0]
    for label, path, value in [("empty", "name", ""), ("10k_chars", "name", "N" * 10_000), ("list", "name", ["a"]),
                               ("null", "name", None), ("30k_chars", "description", "d" * 30_000),
                               ("mapping", "description", {"a": 1})]:
        cases.append(_value_case(stem, data, path, label, value))
    return cases


def issue_cases() -> list[Bad]:
    """The values the issue names, one by one, in the Kent scenario."""
    kent = dict((s, d) for s, _, d in shipped())["kent_youth_dps"]
    named = [("market.entry_per_year", ".inf", INF), ("contracts.payment.late_days_mean", "1e308", 1e308),
             ("procurement.competitions.first_round_lots", "minus_5", -5),
             ("procurement.competitions.first_round_lots", "1e9", 10**9),
             ("contracts.extensions_months", "minus_12", [-12]), ("contracts.extensions_months", "zero", [0]),
             ("procurement.admission.reopen_months", "minus_1", [-1]),
             ("procurement.competitions.lot_value.median", ".inf", INF),
             ("market.capacity_multiple", ".inf", INF), ("market.quality.median", ".inf", INF),
             ("behaviour.hour_cost", ".inf", INF), ("finance.overdraft_months", ".inf", INF),
             ("market.providers", "1e9", 10**9), ("horizon_months", "1e6", 10**6),
             ("procurement.competitions.lots_per_round", "1e9", 10**9), ("market.districts", "1e9", 10**9),
             ("contracts.extensions_months", "10k_items", [12] * 10_000),
             ("procurement.admission.reopen_months", "10k_items", list(range(10_000)))]
    cases = []
    for path, label, value in named:
        case = _value_case("kent_youth_dps", kent, path, f"issue_{label}", value)
        if isinstance(value, list) and len(value) == 1:  # the item is wrong: the message names it
            case = Bad(case.id, case.files, case.arg, f"{path}.0", key_line(case.files[case.arg], f"{path}.0"))
        cases.append(case)
    # the size check: a market too big for memory (each number within its own bound)
    big = setp(setp(setp(kent, "market.providers", 200_000), "horizon_months", 600), "market.entry_per_year", 50_000)
    big = setp(big, "procurement.competitions.lots_per_round", 1000)
    text = dump(big)
    cases.append(Bad("kent:too_big_for_memory", {"kent_too_big.yaml": text}, "kent_too_big.yaml", "market.providers",
                     key_line(text, "market.providers"), also=("memory",)))
    return cases


# --------------------------------------------------------------------------- structure and policies


def structure_cases() -> list[Bad]:
    """Sections of the wrong shape, unknown keys, bad shocks and policy overlays."""
    files = shipped()
    mutations: list[tuple[str, str, Any, str | None]] = [  # (label, path, value, key path named)
        ("market_scalar", "market", 5, "market"), ("market_list", "market", [1, 2], "market"),
        ("procurement_text", "procurement", "dps", "procurement"),
        ("unknown_top_key", "horizon_mnths", 24, "horizon_mnths"),
        ("unknown_nested_key", "market.providerz", 40, "market.providerz"),
        ("unknown_deep_key", "contracts.payment.period_dayz", 30, "contracts.payment.period_dayz"),
        ("shocks_mapping", "shocks", {"type": "funding_cut"}, "shocks"),
        ("shock_item_text", "shocks", ["funding_cut"], "shocks.0"),
        ("shock_unknown_type", "shocks", [{"type": "meteor_strike", "month": 3}], "shocks.0.type"),
        ("shock_missing_type", "shocks", [{"month": 3, "fraction": 0.2}], "shocks.0.type"),
        ("shock_month_negative", "shocks", [{"type": "funding_cut", "month": -1}], "shocks.0.month"),
        ("shock_fraction_inf", "shocks", [{"type": "cost_inflation", "fraction": INF}], "shocks.0.fraction"),
        ("shock_unknown_key", "shocks", [{"type": "grant_loss", "monthz": 3}], "shocks.0.monthz"),
        ("shocks_200", "shocks", [{"type": "funding_cut", "month": 1}] * 200, "shocks"),
        ("policies_list", "policies", ["baseline", "other"], "policies"),
        ("policy_overlay_list", "policies.other", [1], "policies.other"),
        ("policy_overlay_number", "policies.other", 5, "policies.other"),
        ("policy_unknown_key", "policies.other", {"market": {"providerz": 3}}, "policies.other.market.providerz"),
        ("policy_bad_value", "policies.other", {"market": {"entry_per_year": INF}},
         "policies.other.market.entry_per_year"),
        ("policy_defines_policies", "policies.other", {"policies": {"x": {}}}, "policies.other.policies"),
        ("baseline_not_empty", "policies.baseline", {"seed": 3}, "policies.baseline"),
        ("policies_150", "policies", {"baseline": {}, **{f"p{i}": {"seed": i} for i in range(150)}}, "policies"),
        ("extends_number", "extends", 5, "extends"), ("extends_list", "extends", ["a.yaml"], "extends"),
        ("extends_empty", "extends", "", "extends"),
    ]
    cases = []
    for i, (label, path, value, named) in enumerate(mutations):
        for stem, _, data in (files[i % len(files)], files[(i + 2) % len(files)]):
            text = dump(setp(data, path, value))
            name = f"{stem}__{label}.yaml"
            cases.append(Bad(f"{stem}:{label}", {name: text}, name, named, prefix_line(text, named)))
    stem, _, data = files[1]
    text = dump({k: v for k, v in data.items() if k != "name"})
    cases.append(Bad(f"{stem}:missing_name", {"no_name.yaml": text}, "no_name.yaml", "name", also=("missing",)))
    return cases


BAD_POLICY_NAMES: list[tuple[str, Any]] = [
    ("traversal", "../../../../somewhere/EVIL"), ("slash", "a/b"), ("backslash", "a\\b"), ("dotdot", ".."),
    ("dot", "."), ("nul", "a\x00b"), ("300_chars", "p" * 300), ("65_chars", "p" * 65), ("space", "pay late"),
    ("leading_dash", "-rf"), ("leading_dot", ".hidden"), ("tab", "a\tb"), ("newline", "a\nb"), ("accent", "café"),
    ("rtl_override", "abc\u202etxt"), ("empty", ""), ("absolute", "/tmp/EVIL"), ("number", 123), ("null", None),
    ("colon", "c:evil"), ("star", "*"), ("tilde", "~user"),
]
"""Policy names that would reach a file path: refused at validation (exit 2)."""


def policy_name_cases() -> list[Bad]:
    files = shipped()
    cases = []
    for i, (label, name) in enumerate(BAD_POLICY_NAMES):
        stem, _, data = files[i % len(files)]
        policies = {"baseline": {}, name: {"contracts": {"length_months": 24}}}
        text = dump({**data, "policies": policies})
        fname = f"{stem}__policy_{label}.yaml"
        hidden = (name,) if isinstance(name, str) and len(name) > 100 else ()
        line = key_line(text, "policies") + (2 if name is not None else 0)  # null: the line of 'policies'
        cases.append(Bad(f"{stem}:policy_name_{label}", {fname: text}, fname, "policies", line, hidden=hidden))
    return cases


def extends_cases() -> list[Bad]:
    """``extends`` naming a file that is no scenario: its content must never be shown."""
    kent = (ROOT / "scenarios" / "kent_youth_dps.yaml").read_bytes()
    secret = b"root:$6$SECRETHASH:19000:0:99999:7:::\nname: leaked\n"
    cases = []
    targets = [("etc_shadow", "/etc/shadow", None), ("etc_passwd", "/etc/passwd", None),
               ("dev_zero", "/dev/zero", None), ("proc_environ", "/proc/self/environ", None),
               ("traversal_shadow", "../../../../../../../../etc/shadow", None),
               ("absolute_missing", "/nonexistent/dir/base.yaml", None), ("missing", "missing.yaml", None),
               ("secret_not_yaml", "secret.txt", secret), ("folder", "folder.yaml", ("dir",)),
               ("fifo", "pipe.yaml", ("fifo",)), ("symlink_dev_zero", "zero.yaml", ("symlink", "/dev/zero")),
               ("self_cycle", "child.yaml", None), ("nul_in_name", "base\x00.yaml", None),
               ("long_name", "x" * 5000 + ".yaml", None)]
    for label, target, content in targets:
        text = f"extends: {yaml.safe_dump(target).splitlines()[0]}\nname: Child of {label}\n".encode()
        if target.startswith("/"):
            text = f"extends: {target}\nname: Child of {label}\n".encode()
        files: dict[str, File] = {"child.yaml": text}
        if content is not None:
            files[target] = content
        cases.append(Bad(f"extends_{label}", files, "child.yaml", "extends", 1,
                         hidden=("SECRETHASH", "root:", "leaked")))
    shadow_like = b"root:$6$SECRETHASH:19000:0:99999:7:::\n"
    cases.append(Bad("extends_secret_yaml", {"child.yaml": b"extends: secret.yaml\nname: Child\n",
                                             "secret.yaml": shadow_like}, "child.yaml", line=1, named="secret.yaml",
                     hidden=("SECRETHASH", "root:$"), also=("not a scenario file",)))
    # a parent that is itself malformed: the message names the parent and its line
    parent = kent.replace(b"  providers: 250", b"  providers: .inf")
    child = b"extends: ../parent.yaml\nname: Child\n"
    cases.append(Bad("extends_parent_inf", {"parent.yaml": parent, "sub/child.yaml": child}, "sub/child.yaml",
                     "market.providers", key_line(parent, "market.providers"), named="parent.yaml"))
    return cases
