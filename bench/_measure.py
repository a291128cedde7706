"""What the API benchmarks measure around a server: a scratch database, and the CPU of processes and of the machine.

Shared by ``bench/api.py`` and ``bench/drawdowns.py``; not a benchmark itself.
"""

from __future__ import annotations

import os
import subprocess
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

PG_ADMIN = os.environ.get("LOANFACTORY_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def scratch_database() -> AbstractContextManager[str]:
    """The URL of a fresh PostgreSQL database, dropped afterwards (the tests' own)."""
    from tests.conftest import fresh_postgres_database

    return contextmanager(fresh_postgres_database)()


def machine_cpu() -> tuple[float, float]:
    """Seconds of CPU the whole machine has spent busy (steal left out) and stolen by the hypervisor so far."""
    fields = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK"), steal / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int], which: slice = slice(11, 13)) -> float:
    """User and system CPU of the processes ``pids`` so far (those that have gone are left out); ``which``
    picks the fields after the command name: ``slice(12, 13)`` the system (kernel) CPU alone."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(field) for field in fields[which])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_pids(server: subprocess.Popen[bytes], admin: Any, database: str) -> tuple[list[int], list[int]]:
    """gunicorn's processes (the arbiter and its workers) and the PostgreSQL backends of ``database``."""
    from sqlalchemy import text

    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    with admin.connect() as conn:
        backends = list(conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                                     {"name": database}))
    return [server.pid, *map(int, children)], backends
