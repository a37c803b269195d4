"""The ``dps-sim`` command: options, exit codes and progress bars. No model logic here.

Exit codes: 0 success; 2 bad input (unreadable or invalid file, bad option, output folder
already used, no Dask scheduler at the address) with a message naming the file, key path and
line, before anything is written; 3 the command finished but one or more replications failed
(their rows hold the error, the screen says why); 1 an unexpected failure (a lost worker or an
interruption says the command that resumes).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from .cli_args import build_parser

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_FAILED_RUNS = 0, 1, 2, 3


class BadInput(Exception):
    """A problem with what the user gave us (exit code 2)."""


class Interrupted(Exception):
    """A command stopped before the end (a lost worker, Ctrl-C); the message says how to resume (exit code 1)."""


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator:
    """A rich progress bar with rate and time remaining; yields a callback(done, total)."""
    if not enabled:
        yield None
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                  transient=False) as bar:
        task = bar.add_task(label, total=None, rate="")

        def update(done: int, total: int) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{done / elapsed:.1f}/s" if elapsed > 0 else ""
            bar.update(task, completed=done, total=total, rate=rate)

        yield update


def _out_for(args: argparse.Namespace, command: str, name: str) -> Path:
    from .experiment.store import default_out
    from .scenario.names import safe_stem

    if args.resume and not args.out:
        raise BadInput(f"--resume needs --out: the folder of the {command} to resume")
    return Path(args.out) if args.out else default_out(command, safe_stem(name))


def resume_command(args: argparse.Namespace, out: Path, merge: bool = False) -> str:
    """The command line that resumes this command in ``out`` (a shard: the same shard again; ``merge``:
    the command that merges the shards)."""
    file = args.sweep if args.command == "sweep" else args.scenario
    words = ["dps-sim", args.command, str(file)]
    shard = getattr(args, "shard", None)
    for option in ("policy", "policies", "reps", "seed", "events", "workers", "scheduler"):
        if option == "workers" and merge:
            continue
        value = getattr(args, option, None)
        if value is not None and option != "events" or (option == "events" and value not in (None, "awards")):
            words += [f"--{option}", ",".join(value) if isinstance(value, list) else str(value)]
    for item in getattr(args, "set", None) or []:
        words += ["--set", item]
    words += ["--out", str(out)] + (["--shard", f"{shard[0]}/{shard[1]}"] if shard and not merge else ["--resume"])
    return shlex.join(words)


@contextmanager
def _resumable(args: argparse.Namespace, out: Path) -> Iterator[None]:
    """A lost worker or Ctrl-C: say that finished replications are kept and what to type to go on."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        yield
    except BrokenProcessPool:
        raise Interrupted(f"a worker process stopped unexpectedly (killed, or out of memory); the finished "
                          f"replications are kept in {out}. To go on, run:\n  {resume_command(args, out)}") from None
    except KeyboardInterrupt:
        if not (out / "manifest.json").is_file():  # e.g. during an equal-spend search, before the folder
            raise Interrupted(f"interrupted before anything was written to {out}; run the command again") from None
        raise Interrupted(f"interrupted; the finished replications are kept in {out}. To go on, run:\n  "
                          f"{resume_command(args, out)}") from None


def _load(path: Path, sets: list[str] | None):
    """The scenario file with the ``--set`` values applied before its policies."""
    from .scenario import load_scenario
    from .scenario.overrides import parse_sets

    return load_scenario(path, parse_sets(sets or []))


def _known_policies(sc, names: list[str]) -> None:
    """Each name given to --policy or --policies is a policy of the scenario (else exit 2: the file's
    policies, with "did you mean")."""
    from .scenario import resolve_policy

    for name in names:
        resolve_policy(sc, name)


def cmd_run(args: argparse.Namespace) -> int:
    from .experiment import run

    sc = _load(args.scenario, args.set)
    _known_policies(sc, [args.policy] if args.policy else [])  # bad input, before any output
    out = _out_for(args, "run", args.scenario.stem)
    with _resumable(args, out), progress_bar(f"run {args.scenario.stem}", not args.quiet) as cb:
        res = run(sc, policy=args.policy, reps=args.reps, seed=args.seed, workers=args.workers, events=args.events,
                  out=out, force=args.force, resume=args.resume, progress=cb)
    return _finish(args, res, _print_runs)


def cmd_compare(args: argparse.Namespace) -> int:
    from .experiment import compare

    sc = _load(args.scenario, args.set)
    _known_policies(sc, args.policies or [])
    out = _out_for(args, "compare", args.scenario.stem)
    with _resumable(args, out), progress_bar(f"compare {args.scenario.stem}", not args.quiet) as cb:
        res = compare(sc, reps=args.reps, seed=args.seed, workers=args.workers, events=args.events, out=out,
                      force=args.force, resume=args.resume, progress=cb, policies=args.policies)
    return _finish(args, res, _print_summary)


def cmd_sweep(args: argparse.Namespace) -> int:
    from .experiment.executors import check_scheduler
    from .experiment.sweep import load_sweep, sweep
    from .scenario.overrides import parse_sets

    spec = load_sweep(args.sweep, parse_sets(args.set or []))
    if args.shard and not args.out:
        raise BadInput("--shard needs --out: the folder every shard of the sweep writes into")
    if args.shard and (args.resume or args.force):
        raise BadInput("--shard skips the runs already in --out by itself; --resume (after all shards) merges "
                       "them, --force is not for shards")
    out = _out_for(args, "sweep", args.sweep.stem)
    if args.scheduler:
        from .experiment.executors import DASK_MISSING, dask_available

        if not dask_available():
            raise BadInput(f"--scheduler: {DASK_MISSING}")
        problem = check_scheduler(args.scheduler)
        if problem:
            raise BadInput(f"--scheduler {problem}")
    with _resumable(args, out), progress_bar(f"sweep {args.sweep.stem}", not args.quiet) as cb:
        res = sweep(spec, workers=args.workers, scheduler=args.scheduler, resume=args.resume, out=out,
                    force=args.force, progress=cb, shard=args.shard)
    for loss in res.manifest.get("lost_chunks_retried") or []:
        print(f"a worker was lost ({loss['error'][:120]}); {loss['runs_rerun']} runs were run again "
              "(recorded in the manifest)", file=sys.stderr)
    if args.shard:
        i, n = args.shard
        print(f"shard {i}/{n}: {res.manifest['runs_this_call']} runs this call; {res.manifest['runs_in_folder']} of "
              f"{res.manifest['runs_expected']} runs of the sweep are in {res.out}. When every shard has finished, "
              f"merge them with:\n  {resume_command(args, res.out, merge=True)}")
        return EXIT_OK
    if not args.no_report:
        _report(res.out)
    failed = res.points[res.points["error"] != ""]
    print(f"{len(res.points)} rows, {len(failed)} failed; results written to {res.out}")
    return _failures(failed["error"], len(res.points), "runs", "points.parquet")


def cmd_discover(args: argparse.Namespace) -> int:
    from .experiment.discovery import DiscoveryError, discover

    if not (args.results / "manifest.json").is_file():
        raise BadInput(f"{args.results}: not a results folder (no manifest.json)")
    if not 0 < args.peel < 0.5 or not 0 < args.min_mass < 1 or (args.density is not None and not 0 < args.density <= 1):
        raise BadInput("--peel must be between 0 and 0.5, --min-mass and --density between 0 and 1")
    try:
        res = discover(args.results, args.kpi, args.where, policy=args.policy, method=args.method, alpha=args.peel,
                       min_mass=args.min_mass, density=args.density)
    except DiscoveryError as exc:
        raise BadInput(str(exc)) from None
    r = res.record
    print(f"{r['futures_where_it_holds']} of {r['futures']} futures meet {args.where!r} for {args.kpi}"
          + (f" ({r['policy']} against the baseline)" if r.get("policy") else "") + ".")
    print(f"PRIM box (step {r['prim_step']} of the peeling trajectory): {r['prim_box']}\n"
          f"  coverage {r['prim_coverage']:.2f}, density {r['prim_density']:.2f}, mass {r['prim_mass']:.2f}")
    for _, b in res.boxes[res.boxes["method"] == "cart"].drop_duplicates("box").iterrows():
        print(f"CART box {b['box']}: {b['description']}\n  coverage {b['coverage']:.2f}, density {b['density']:.2f}, "
              f"mass {b['mass']:.2f}")
    if not args.no_report:
        _report(args.results)
    print(f"tables written to {args.results / 'discovery.csv'} and discovery_trajectory.csv")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from .scenario import policy_names, read_yaml
    from .scenario.size import human_bytes

    data, _ = read_yaml(args.file)
    if "parameters" in data or "method" in data:
        from .experiment.sweep import load_sweep
        from .scenario.overrides import parse_sets

        spec = load_sweep(args.file, parse_sets(args.set or []))
        size = spec.base.size()
        print(f"{args.file}: valid sweep ({spec.method}, {spec.run_count():,} runs: {spec.point_count():,} points x "
              f"{(str(spec.policy_count) + ' policies x ') if spec.policies else ''}"
              f"{spec.replications} replications, over {len(spec.parameters)} parameters); each run "
              f"{size.describe().replace(' per replication', '')} (at the base values), "
              f"so about {human_bytes(size.bytes)} per worker")
        return EXIT_OK
    sc = _load(args.file, args.set)
    names = policy_names(sc)
    size = max((s.size() for s in (sc, *(_policy(sc, n) for n in names[1:]))), key=lambda z: z.bytes)
    print(f"{args.file}: valid scenario '{sc.name}' with policies: {', '.join(names)}\n"
          f"  one replication: {size.describe().replace(' per replication', '')} (largest policy)\n"
          f"  runs: `run` 10 (--reps), `compare` {20 * len(names)} ({len(names)} policies x 20 replications)")
    matching = [n for n in names[1:] if _policy(sc, n).budget.match_spend_of]
    if matching:
        print(f"  equal spend: before the runs, the budget of {', '.join(matching)} is searched for (its "
              "replications run about 5-10 more times, the policy it matches once more)")
    return EXIT_OK


def _policy(sc, name: str):
    from .scenario import resolve_policy

    return resolve_policy(sc, name)


def cmd_report(args: argparse.Namespace) -> int:
    from .experiment.outdir import check_report_target

    if not (args.results / "manifest.json").is_file():
        raise BadInput(f"{args.results}: not a results folder (no manifest.json)")
    check_report_target(args.results)
    paths = _report(args.results)
    print(f"report written to {paths}")
    return EXIT_OK


def cmd_explore(args: argparse.Namespace) -> int:
    if not (args.results / "manifest.json").exists():
        raise BadInput(f"{args.results}: not a results folder (no manifest.json)")
    from .report.explorer import ExplorerUnavailable, build_explorer

    try:
        print(f"explorer written to {build_explorer(args.results)}")
    except ExplorerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from .schemas import scenario_schema, sweep_schema

    print(json.dumps(sweep_schema() if args.sweep else scenario_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


def _report(folder: Path):
    """Draw the report; the manifest lists the report's files as the tool's own."""
    from .experiment.outdir import REPORT_FILES
    from .experiment.store import claim_files, settle_files
    from .report import build_report

    claim_files(folder, list(REPORT_FILES))
    try:
        return build_report(folder)
    finally:
        settle_files(folder)


def _finish(args: argparse.Namespace, res, show) -> int:
    """After run or compare: the report (unless --no-report), the figures on screen, where they are, and
    exit code 3 if any replication failed."""
    if not args.no_report:
        _report(res.out)
    show(res)
    print(f"results written to {res.out}")
    return _failures(res.failed["error"], len(res.runs), "replications", "runs.csv")


def _failures(errors, total: int, what: str, table: str) -> int:
    """Exit code 3 with the causes of failed replications summarised on screen, or 0 if none failed."""
    if len(errors) == 0:
        return EXIT_OK
    causes = errors.map(lambda e: e.split("\n", 1)[0][:200]).value_counts()
    print(f"{len(errors)} of {total} {what} failed; their rows in {table} hold the error. Causes:", file=sys.stderr)
    for cause, count in causes.head(5).items():
        print(f"  {count} x {cause}", file=sys.stderr)
    if len(causes) > 5:
        print(f"  ... and {len(causes) - 5} other causes", file=sys.stderr)
    return EXIT_FAILED_RUNS


def _print_runs(res) -> None:
    from .metrics import KPI_NAMES

    ok = res.runs[res.runs["error"] == ""]
    print(f"{len(res.runs)} replications of policy '{res.policies[0]}' (means of the {len(ok)} that finished):")
    if ok.empty:
        print("  none finished: no KPIs to show")
        return
    width = max(len(k) for k in KPI_NAMES)
    for k, v in ok[list(KPI_NAMES)].mean().items():
        print(f"  {k:<{width}}  {v:,.3f}")


def _print_summary(res) -> None:
    s = res.summary
    s = s[s["kpi"].isin(["insolvencies_small", "providers_active_end", "share_of_value_small", "service_users_reached",
                         "contract_failures", "commissioner_spend"])]
    for _, row in s.iterrows():
        if row["policy"] == "baseline":
            continue
        print(f"  {row['policy']:<28} {row['kpi']:<24} diff {row['diff']:+,.3f} "
              f"(95% CI {row['diff_ci_low']:+,.3f} to {row['diff_ci_high']:+,.3f})")


COMMANDS = {"run": cmd_run, "compare": cmd_compare, "sweep": cmd_sweep, "validate": cmd_validate,
            "report": cmd_report, "schema": cmd_schema, "discover": cmd_discover}
COMMANDS["explore"] = cmd_explore


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dps-sim`` and ``python -m dps_sim``."""
    from .experiment.errors import OutputExistsError
    from .scenario import ScenarioError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OutputExistsError, BadInput) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Interrupted as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:  # `dps-sim schema | head`: the reader left; stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except Exception as exc:  # an unexpected failure: short message, traceback on request
        if os.environ.get("DPS_SIM_DEBUG"):
            raise
        print(f"unexpected error: {type(exc).__name__}: {exc}\n(set DPS_SIM_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
