"""The benchmarks' results file: each run of ``bench/<script>.py`` appends one row to ``bench/results/<script>.csv``.

A row starts with the time of the run (UTC) and the commit of the code measured (``git rev-parse --short
HEAD`` of that checkout, ``-dirty`` appended when its tracked files differ from the commit, ``unknown``
outside git), then the run's parameters and the figures it printed. The first row of a file is its
header; when a script's columns change, the old file is moved aside (``<script>-until-<time>.csv``) and a
new one started. Not a benchmark itself (``./dev bench`` runs it too, and it does nothing).
"""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def commit_of(checkout: Path) -> str:
    """The short commit of ``checkout`` (``-dirty`` when its tracked files changed), or ``unknown``."""
    try:
        head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if changed else head


def record(script: str, row: Mapping[str, object], checkout: Path | None = None) -> Path:
    """Append ``row`` (column name -> value, in column order) to ``bench/results/<script>.csv`` after the time
    and the commit of ``checkout`` (by default this one); returns the file's path."""
    now = datetime.now(UTC)
    line = {"utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": commit_of(checkout or RESULTS.parent.parent), **row}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{script}.csv"
    if path.exists():
        with path.open(newline="", encoding="utf-8") as existing:
            header = next(csv.reader(existing), None)
        if header != list(line):
            path.rename(RESULTS / f"{script}-until-{now.strftime('%Y%m%dT%H%M%SZ')}.csv")
    new = not path.exists()
    with path.open("a", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(line))
        if new:
            writer.writeheader()
        writer.writerow(line)
    return path
