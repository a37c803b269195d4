"""A sweep's rows on disk: one Parquet part per finished chunk under ``.parts/points/``, with a
fixed schema (point, replication, the parameters, every KPI, error, seconds), combined at the
end in (point, replication) order into ``points.parquet``."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import store
from .points import InvalidPoint
from .sampling import Design, Parameter
from .sweep_spec import ALL_KPIS, PART_KIND, SweepSpec
from .tasks import TaskResult


def done_runs(parts: store.Parts, policies: tuple[str, ...] = ()) -> set[tuple[int, int, int]]:
    """(point, policy index, replication) of the runs already in the parts (policy index 0 in a one-policy
    sweep); an unreadable part is removed (and recomputed)."""
    done: set[tuple[int, int, int]] = set()
    index = {name: i for i, name in enumerate(policies)}
    for f in parts.files(PART_KIND):
        try:
            t = pq.read_table(f, columns=["point", "replication"] + (["policy"] if policies else []))
        except Exception:  # pragma: no cover - parts are written atomically
            f.unlink()
            continue
        pols = [index[p] for p in t.column("policy").to_pylist()] if policies else [0] * t.num_rows
        done.update(zip(t.column("point").to_pylist(), pols, t.column("replication").to_pylist()))
    return done


def split_key(key: str) -> tuple[int, int]:
    """(point, policy index) of a task key 'p' or 'p:i'."""
    point, _, policy = key.partition(":")
    return int(point), int(policy or 0)


def part_schema(spec: SweepSpec) -> pa.Schema:
    fields = [pa.field("point", pa.int64())] + ([pa.field("policy", pa.string())] if spec.policies else [])
    fields += [pa.field("replication", pa.int64())]
    fields += [pa.field(name, _param_type(par)) for name, par in spec.parameters.items()]
    fields += [pa.field(k, pa.float64()) for k in ALL_KPIS]
    fields += [pa.field("error", pa.string()), pa.field("seconds", pa.float64())]
    return pa.schema(fields)


def _param_type(par: Parameter) -> pa.DataType:
    if par.levels is None:
        return pa.int64() if par.integer else pa.float64()
    for check, typ in ((lambda v: isinstance(v, bool), pa.bool_()),
                       (lambda v: isinstance(v, int) and not isinstance(v, bool), pa.int64()),
                       (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), pa.float64())):
        if all(check(v) for v in par.levels):
            return typ
    return pa.string()  # text, or mixed levels (e.g. null and numbers) as JSON text


def _param_cell(value: Any, typ: pa.DataType) -> Any:
    if pa.types.is_string(typ) and not isinstance(value, str):
        return json.dumps(value, default=str)
    if pa.types.is_floating(typ):
        return float(value)
    return value


def part_table(chunk: list[TaskResult], design: Design, schema: pa.Schema, policies: tuple[str, ...] = ()) -> pa.Table:
    """One finished task's rows: point, [policy,] replication, the point's values, every KPI, error, seconds."""
    keys = [split_key(res.task.key) for res in chunk]
    points = [k[0] for k in keys]
    data: dict[str, list] = {"point": points}
    if policies:
        data["policy"] = [policies[k[1]] for k in keys]
    data["replication"] = [res.task.replication for res in chunk]
    for j, par in enumerate(design.parameters):
        typ = schema.field(par.name).type
        data[par.name] = [_param_cell(design.values[p][j], typ) for p in points]
    for k in ALL_KPIS:
        data[k] = [float(res.kpis.get(k, float("nan"))) for res in chunk]
    # an invalid point needs no traceback: its message says which value is wrong
    data["error"] = [(e.split("\n", 1)[0] if e.startswith(InvalidPoint.__name__) else e)
                     for e in (res.error or "" for res in chunk)]
    data["seconds"] = [res.seconds for res in chunk]
    return pa.table(data, schema=schema)


def combine_parts(parts: store.Parts, schema: pa.Schema, policies: tuple[str, ...] = ()) -> pa.Table:
    """All parts in (point, policy as listed, replication) order, without timings (so tables match
    whatever ran them, on however many workers, backends or shards)."""
    files = parts.files(PART_KIND)
    if not files:
        return schema.empty_table().drop_columns(["seconds"])
    table = pa.concat_tables([pq.read_table(f, schema=schema) for f in files])
    index = {name: i for i, name in enumerate(policies)}
    pol = (np.array([index[p] for p in table.column("policy").to_pylist()], dtype=np.int64) if policies
           else np.zeros(table.num_rows, dtype=np.int64))
    keys = (np.asarray(table.column("point"), dtype=np.int64) * 128 + pol) * (1 << 20) \
        + np.asarray(table.column("replication"), dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    table, keys = table.take(pa.array(order)), keys[order]
    first = np.concatenate([[True], keys[1:] != keys[:-1]])
    if not first.all():
        table = table.filter(pa.array(first))
    return table.drop_columns(["seconds"]).combine_chunks()
