"""The ``dps-sim`` command's options: subcommands, their arguments and argument types."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import __version__


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the seed must not be negative")
    return value


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected policy names separated by commas")
    return names


def _shard(text: str) -> tuple[int, int]:
    """``I/N``: shard I (0 to N-1) of N."""
    index, slash, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N such as 0/4, got {text!r}") from None
    if not slash or n < 1 or not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"expected I/N with 0 <= I < N, such as 0/4; got {text!r}")
    return i, n


def _set(text: str) -> str:
    """A ``--set`` argument's form (KEY.PATH=VALUE); its key and value are checked against the scenario later."""
    if "=" not in text or not text.partition("=")[0].strip():
        raise argparse.ArgumentTypeError(f"expected KEY.PATH=VALUE, e.g. contracts.payment.terms=monthly_arrears; "
                                         f"got {text!r}")
    return text


def _what_if(sp: argparse.ArgumentParser) -> None:
    """``--set KEY.PATH=VALUE``, repeatable: a quick what-if without editing the file."""
    sp.add_argument("--set", dest="set", action="append", type=_set, default=None, metavar="KEY.PATH=VALUE",
                    help="change one value of the scenario before its policies, e.g. --set "
                         "contracts.payment.terms=monthly_arrears (repeatable; the value is read as YAML)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dps-sim", description="Simulate commissioning through a Dynamic Purchasing System.")
    p.add_argument("--version", action="version", version=f"dps-sim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp: argparse.ArgumentParser, reps_default: int) -> None:
        sp.add_argument("--reps", type=_positive, default=reps_default, help=f"replications (default {reps_default})")
        sp.add_argument("--seed", type=_seed, default=None, help="root seed (default: the scenario's seed)")
        sp.add_argument("--out", default=None, help="output folder (default results/<command>-<scenario>-<time>)")
        sp.add_argument("--force", action="store_true", help="replace the results dps-sim wrote in the output folder")
        sp.add_argument("--resume", action="store_true", help="run only the replications missing from --out")
        sp.add_argument("--events", choices=("all", "awards", "none"), default="awards",
                        help="audit trail detail: all (every bid, score and payment), awards (default), none")
        sp.add_argument("--no-report", action="store_true", help="skip charts and report")
        sp.add_argument("--quiet", action="store_true", help="no progress bar")

    r = sub.add_parser("run", help="run one policy of a scenario")
    r.add_argument("scenario", type=Path)
    r.add_argument("--policy", default=None, help="policy name (default: baseline)")
    r.add_argument("--workers", type=_positive, default=1, help="worker processes (default 1)")
    _what_if(r)
    common(r, 10)

    c = sub.add_parser("compare", help="run every policy with common random numbers and compare them")
    c.add_argument("scenario", type=Path)
    c.add_argument("--workers", type=_positive, default=None, help="worker processes (default: all cores)")
    c.add_argument("--policies", type=_names, default=None, help="comma-separated policies to compare (the baseline "
                                                                  "is always included)")
    _what_if(c)
    common(c, 20)

    s = sub.add_parser("sweep", help="parameter sweep with sensitivity analysis")
    s.add_argument("sweep", type=Path)
    s.add_argument("--workers", type=_positive, default=None, help="worker processes (default: all cores)")
    s.add_argument("--scheduler", default=None, help="'local' for a Dask LocalCluster, or a scheduler address tcp://host:port")
    _what_if(s)
    s.add_argument("--resume", action="store_true", help="run only what is missing in --out (after shards: merge them)")
    s.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                   help="run only share I of N of the points into --out (shared by the shards; for job arrays); "
                        "then --resume merges them")
    s.add_argument("--out", default=None)
    s.add_argument("--force", action="store_true", help="replace the results dps-sim wrote in --out")
    s.add_argument("--no-report", action="store_true")
    s.add_argument("--quiet", action="store_true")

    v = sub.add_parser("validate", help="check a scenario or sweep file without running it")
    v.add_argument("file", type=Path)
    _what_if(v)

    d = sub.add_parser("discover", help="scenario discovery: the futures of a sweep in which a condition holds (PRIM, CART)")
    d.add_argument("results", type=Path, help="a finished sweep folder")
    d.add_argument("--kpi", required=True, help="the KPI the condition is about")
    d.add_argument("--policy", default=None, help="policies sweeps: the policy compared with the baseline "
                                                  "(default: the first after it)")
    d.add_argument("--where", required=True, help="condition on diff (policy minus baseline), value (the policy's "
                                                  "result, also by the KPI's name) or baseline, e.g. \"diff > 0\"")
    d.add_argument("--method", choices=("auto", "prim", "cart", "both"), default="auto",
                   help="auto (default): PRIM, and CART too if scikit-learn is installed")
    d.add_argument("--peel", type=float, default=0.05, help="PRIM: share of the futures peeled at each step (default 0.05)")
    d.add_argument("--min-mass", type=float, default=0.05, help="smallest box, as a share of the futures (default 0.05)")
    d.add_argument("--density", type=float, default=None, help="PRIM: report the first box reaching this density "
                                                               "(default: the box of largest coverage x density)")
    d.add_argument("--no-report", action="store_true", help="do not redraw the report")

    rp = sub.add_parser("report", help="redraw charts and report from saved results")
    rp.add_argument("results", type=Path)
    ex = sub.add_parser("explore", help="write explore.html, an interactive page over saved results")
    ex.add_argument("results", type=Path)

    sc = sub.add_parser("schema", help="print the JSON Schema of scenario files (--sweep: of sweep files)")
    sc.add_argument("--sweep", action="store_true", help="the schema of sweep files instead")
    return p
