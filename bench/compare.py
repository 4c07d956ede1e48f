#!/usr/bin/env python3
"""One table from a bench/compare.sh results folder: voltrs voter (voltrs_voter.jsonl, one
`voltrs bench voter --json` line per run) next to the baseline CSVs of ../shared/bench
(pg_voter-*.csv, redis_voter-*.csv, tarantool_voter-*.csv, sqlite_voter-*.csv).

Each configuration's median throughput (over its repeats) is shown with the p50 and p99 of
that median run, and voltrs's throughput divided by it.

    python3 bench/compare.py RESULTS_DIR
"""

import csv
import glob
import json
import os
import sys


def median_row(rows, key):
    rows = sorted(rows, key=lambda r: r[key])
    return rows[(len(rows) - 1) // 2] if rows else None


def voltrs_rows(out):
    path = os.path.join(out, "voltrs_voter.jsonl")
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                j = json.loads(line)
                lat = j.get("latency_ms", {})
                rows.append({"tps": float(j["tps"]), "p50": lat.get("p50"), "p99": lat.get("p99")})
    return rows


def csv_rows(out, pattern):
    rows = []
    for path in sorted(glob.glob(os.path.join(out, pattern))):
        with open(path) as f:
            rows.extend(csv.DictReader(f))
    return rows


def groups(rows, keys):
    out = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def baselines(out):
    """(label, tps, p50 ms, p99 ms) per baseline configuration."""
    result = []
    for key, rs in groups(csv_rows(out, "pg_voter-*.csv"), ["transport", "synchronous_commit", "clients"]).items():
        m = median_row([dict(r, tps=float(r["tps"])) for r in rs], "tps")
        result.append((f"PostgreSQL plpgsql, {key[0]}, synchronous_commit={key[1]}, {key[2]} clients",
                       m["tps"], float(m["lat_p50_ms"]), float(m["lat_p99_ms"])))
    redis = [r for r in csv_rows(out, "redis_voter-*.csv") if r["workload"] == "vote"]
    for key, rs in groups(redis, ["persistence", "clients", "pipeline"]).items():
        m = median_row([dict(r, tps=float(r["rps"])) for r in rs], "tps")
        result.append((f"Redis Lua, persistence {key[0]}, {key[1]} clients, pipeline {key[2]}",
                       m["tps"], float(m["lat_p50_ms"]), float(m["lat_p99_ms"])))
    for key, rs in groups(csv_rows(out, "tarantool_voter-*.csv"), ["wal_mode", "fibers"]).items():
        m = median_row([dict(r, tps=float(r["tps"])) for r in rs], "tps")
        result.append((f"Tarantool Lua, wal_mode {key[0]}, {key[1]} fibers",
                       m["tps"], float(m["lat_p50_ms"]), float(m["lat_p99_ms"])))
    for key, rs in groups(csv_rows(out, "sqlite_voter-*.csv"), ["variant"]).items():
        m = median_row([dict(r, tps=float(r["tps"])) for r in rs], "tps")
        result.append((f"SQLite in-memory, {key[0]} (in-process)",
                       m["tps"], float(m["lat_p50_us"]) / 1000, float(m["lat_p99_us"]) / 1000))
    return result


def fmt(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    v = voltrs_rows(out)
    vm = median_row(v, "tps")
    rows = []
    if vm:
        rows.append(("voltrs voter, sync command log (default)", vm["tps"], vm["p50"], vm["p99"]))
    rows.extend(sorted(baselines(out), key=lambda r: -r[1]))
    print(f"| engine and settings | throughput (tx/s) | p50 (ms) | p99 (ms) | voltrs / this |")
    print("|---|---|---|---|---|")
    for label, tps, p50, p99 in rows:
        ratio = f"{vm['tps'] / tps:.2f}x" if vm and tps else "-"
        print(f"| {label} | {fmt(tps)} | {fmt(p50, 3)} | {fmt(p99, 3)} | {ratio} |")
    if not vm:
        print("\n(no voltrs run found in voltrs_voter.jsonl)", file=sys.stderr)


if __name__ == "__main__":
    main()
