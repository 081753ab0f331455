"""The report of `make bench`: one table (workload, req/s, latency, its floor, the ratio to the floor
against its target, SQL statements per request against their budget), the memory of the web
server and of the floor server, W6 and W7 on the stack's bare parts when measured (`--ceiling`), the
machine, and the same as JSON and as markdown in bench/results/.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

from loads import Workload

RESULTS = Path(__file__).resolve().parent / "results"
RSS_BUDGET_MB = 160
TARGET_RATIOS = {"W1": 0.8, "W2": 0.5, "W3": 0.5, "W4": 0.4, "W5": 0.95, "W6": 0.25, "W7": 0.25}
COLUMNS = ("workload", "req/s", "p50 ms", "p95 ms", "p99 ms", "floor", "floor req/s", "ours/floor", "target",
           "SQL statements/request (budget)")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine(versions: dict[str, str]) -> dict[str, Any]:
    return {"cores": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version(), **versions}


def run_problem(result: dict[str, Any]) -> str | None:
    """What went wrong in a run: non-2xx answers, socket errors, or no request completed at all."""
    if result["non_2xx"] or result["socket_errors"]:
        return f"{result['non_2xx']} non-2xx answers, {result['socket_errors']} socket errors"
    if not result["requests"]:
        return "no request completed"
    return None


def run_line(round_number: int, step: str, result: dict[str, Any]) -> str:
    p99 = "" if result["p99_ms"] is None else f"  p99 {result['p99_ms']:8.2f} ms"
    problem = run_problem(result)
    alarm = f"  !!! {problem}" if problem else ""
    return f"round {round_number} {step:<9} {result['rps']:9.1f} req/s  p50 {result['p50_ms']:8.2f} ms{p99}{alarm}"


def run_errors(runs: list[dict[str, Any]]) -> list[str]:
    """One line per run (workload, floor or ceiling) that went wrong."""
    lines = []
    for run in runs:
        steps = [(run["workload"], run["result"]), (run["floor"], run["floor_result"])]
        if "ceiling_result" in run:
            steps.append((f"{run['workload']} ceiling", run["ceiling_result"]))
        for step, result in steps:
            problem = run_problem(result)
            if problem:
                lines.append(f"round {run['round']} {step}: {problem}")
    return lines


def sql_cell(workload: str, sql: dict[str, Any]) -> str:
    """The workload's statement counts (median "other" statements) against their budgets."""
    if not sql.get("available"):
        return "n/a"
    kinds = [kind for name, kind in sql["kinds"].items() if name.split()[0] == workload]
    if not kinds:
        return "—"
    parts = []
    for kind in kinds:
        label = kind["kind"].partition(" ")[2]
        text = f"{kind['other_median']:g} (≤{kind['budget']})" + (" OVER" if kind["over_budget"] else "")
        parts.append(f"{label} {text}" if label else text)
    return ", ".join(parts)


def median_of(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def summary_row(workload: Workload, runs: list[dict[str, Any]], sql: dict[str, Any]) -> dict[str, Any]:
    """The medians over rounds of one workload, its floor, and the ratio of adjacent runs."""
    mine = [run for run in runs if run["workload"] == workload.name]
    ratios = [run["result"]["rps"] / run["floor_result"]["rps"] for run in mine if run["floor_result"]["rps"]]
    ratio = median_of(ratios)
    target = TARGET_RATIOS[workload.name]
    return {
        "workload": workload.name, "title": workload.title,
        "rps": median_of([run["result"]["rps"] for run in mine]),
        "p50_ms": median_of([run["result"]["p50_ms"] for run in mine]),
        "p95_ms": median_of([run["result"].get("p95_ms") for run in mine]),
        "p99_ms": median_of([run["result"]["p99_ms"] for run in mine]),
        "floor": workload.floor, "floor_rps": median_of([run["floor_result"]["rps"] for run in mine]),
        "ratio": ratio, "target": target, "meets_target": ratio is not None and ratio >= target,
        "sql": sql_cell(workload.name, sql),
    }


def number(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def row_cells(row: dict[str, Any]) -> list[str]:
    return [row["workload"], number(row["rps"], 1), number(row["p50_ms"], 2), number(row["p95_ms"], 2),
            number(row["p99_ms"], 2),
            row["floor"], number(row["floor_rps"], 1), number(row["ratio"], 2),
            f"≥{row['target']:.2f} " + ("ok" if row["meets_target"] else "MISSED"), row["sql"]]


TEXT_COLUMNS = (0, 5, 9)  # aligned left; the numbers are aligned right


def text_table(rows: list[dict[str, Any]]) -> str:
    cells = [list(COLUMNS)] + [row_cells(row) for row in rows]
    widths = [max(len(line[column]) for line in cells) for column in range(len(COLUMNS))]

    def aligned(line: list[str]) -> str:
        return "  ".join(cell.ljust(width) if column in TEXT_COLUMNS else cell.rjust(width)
                         for column, (cell, width) in enumerate(zip(line, widths, strict=True))).rstrip()

    lines = [aligned(line) for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(row_cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def quiz_line(runs: list[dict[str, Any]]) -> str | None:
    results = [run["result"] for run in runs if run["workload"] == "W7"]
    if not results:
        return None
    values = {key: median_of([result[key] for result in results])
              for key in ("start_p50_ms", "start_p99_ms", "submit_p50_ms", "submit_p99_ms")}
    return (f"W7 calls: start p50 {values['start_p50_ms']:.2f} ms, p99 {values['start_p99_ms']:.2f} ms; "
            f"submit p50 {values['submit_p50_ms']:.2f} ms, p99 {values['submit_p99_ms']:.2f} ms")


def ceiling_lines(runs: list[dict[str, Any]]) -> list[str]:
    """W6 and W7 on the stack's bare parts (`--ceiling`), against the same floor runs as ours."""
    lines = []
    for workload in dict.fromkeys(run["workload"] for run in runs if "ceiling_result" in run):
        mine = [run for run in runs if run["workload"] == workload and "ceiling_result" in run
                and run["floor_result"]["rps"]]
        if not mine:
            continue
        rps = median_of([run["ceiling_result"]["rps"] for run in mine])
        ratio = median_of([run["ceiling_result"]["rps"] / run["floor_result"]["rps"] for run in mine])
        ours = median_of([run["result"]["rps"] / run["floor_result"]["rps"] for run in mine])
        lines.append(f"{workload} on the stack's bare parts (bench/ceiling): {rps:,.1f} req/s, ceiling/floor "
                     f"{ratio:.2f} (ours/floor {ours:.2f}, target {TARGET_RATIOS[workload]:.2f})")
    return lines


def rss_line(rss: dict[str, Any] | None) -> str:
    if rss is None:
        return "RSS of the web server: n/a (gunicorn master not found)"
    verdict = "ok" if rss["total_mb"] <= RSS_BUDGET_MB else "OVER"
    line = (f"RSS of the web server after the workloads: {rss['total_mb']:.1f} MB "
            f"({_processes(rss, '')}; budget {RSS_BUDGET_MB} MB: {verdict})")
    if "pss_total_mb" in rss:  # shared pages split between the processes (PSS), and each one's own (USS)
        line += (f"; PSS {rss['pss_total_mb']:.1f} MB ({_processes(rss, 'pss_')}), "
                 f"USS {rss['uss_total_mb']:.1f} MB ({_processes(rss, 'uss_')})")
    return line


def floor_rss_line(rss: dict[str, Any] | None) -> str:
    """The floor server's memory after its runs: the same gunicorn with Flask, SQLAlchemy and redis-py
    loaded and nothing else, so about the least any app of this stack holds."""
    if rss is None:
        return ""
    line = f"RSS of the floor server after its runs: {rss['total_mb']:.1f} MB ({_processes(rss, '')})"
    if "pss_total_mb" in rss:
        line += f"; PSS {rss['pss_total_mb']:.1f} MB"
    return line


def _processes(rss: dict[str, Any], prefix: str) -> str:
    workers = " + ".join(f"{mb:.1f}" for mb in rss[f"{prefix}workers_mb"])
    return f"master {rss[f'{prefix}master_mb']:.1f} + workers {workers}"


def context_lines(report: dict[str, Any]) -> list[str]:
    """Date, machine, deploy and run settings: what a reader needs to compare two reports."""
    host, settings = report["machine"], report["settings"]
    sizes = settings["sizes"]
    web, floor = settings["web_gunicorn"], settings["floor_gunicorn"]
    return [
        f"date (UTC): {report['date_utc']}",
        f"machine: {host['cores']} cores, {host['cpu']}; Python {host['python']}, "
        f"PostgreSQL {host['postgresql']}, Redis {host['redis']}",
        f"web: {web['worker_class']}, {web['workers']} workers x {web['threads']} threads; "
        f"floor: {floor['worker_class']}, {floor['workers']} workers x {floor['threads']} threads; "
        f"env overrides: {settings['env_overrides'] or 'none'}",
        f"seed: {sizes['instructors']} instructors x {sizes['courses_per_instructor']} courses, "
        f"{sizes['students']} students x {sizes['enrollments_per_student']} enrollments; "
        f"{settings['rounds']} round(s) of {settings['duration']:g} s after {settings['warmup']:g} s warm-up; "
        f"wrk -t2 -c32 (W5: -c8), W7 on 32 threads",
    ]


def render(report: dict[str, Any], markdown: bool = False) -> str:
    """The whole report as text for the terminal, or as markdown for bench/README.md."""
    table = (markdown_table if markdown else text_table)(report["summary"])
    notes = [quiz_line(report["runs"]), *ceiling_lines(report["runs"]), rss_line(report["rss"]),
             floor_rss_line(report.get("floor_rss"))]
    if not report["sql"].get("available"):
        notes.append(f"SQL statements per request: n/a ({report['sql']['reason']})")
    bullet = "- " if markdown else ""
    return "\n".join([bullet + line for line in context_lines(report)] + ["", table, ""]
                     + [bullet + line for line in notes if line])


def write(report: dict[str, Any], markdown: str, stamp: str) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    json_path, markdown_path = RESULTS / f"{stamp}.json", RESULTS / f"{stamp}.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    markdown_path.write_text(markdown + "\n")
    return json_path, markdown_path
