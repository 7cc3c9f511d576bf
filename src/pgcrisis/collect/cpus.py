"""How many CPUs the server may use, and how that was decided; never a guess.

In order: ``--cpus N`` (or ``[server] cpus`` in ``pgcrisis.toml``) for a server pgcrisis cannot
see the machine of (a managed one); else this machine's, when the server is on it. A server
is on this machine when the session came over a unix socket or a loopback address *and* the
process with its backend's pid here is that backend: a PostgreSQL process that started when
the server says the session started (a loopback port may be a tunnel or a container's, whose
pids are not ours). Then the count is the CPUs that process may run on (its affinity),
capped by its cgroup's CPU quota where one is set. Otherwise the count is unknown, and
``how`` says why and what would tell.
"""

from __future__ import annotations

import ipaddress
import math
import os
from pathlib import Path
from typing import Any

from pgcrisis.model.load import CpuCount

#: how far apart the server's start of our session and the local process's start may be
START_SLACK_S = 2.0
ASK = "give --cpus N, or set [server] cpus = N in pgcrisis.toml"


def _channel(host: str | None) -> str | None:
    """How a connection to ``host`` stays on this machine, or None when it does not."""
    if not host or host.startswith("/") or host.startswith("@"):
        return f"a unix socket in {host or 'the default directory'}"
    if host == "localhost":
        return "localhost"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return f"the loopback address {host}"
    except ValueError:
        return None
    return None


def _started_at(pid: int) -> float | None:
    """When process ``pid`` of this machine started (seconds since the epoch), if readable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        ticks = int(fields[19])  # field 22 of /proc/PID/stat, counted after "(comm)"
    except (IndexError, ValueError):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _quota(pid: int) -> float | None:
    """The CPUs the cgroup of ``pid`` is limited to (cgroup v2 ``cpu.max`` or v1 CFS quota),
    None when unlimited or unreadable."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        base = Path("/sys/fs/cgroup")
        try:
            if controllers == "":
                quota, period = (base / path.lstrip("/") / "cpu.max").read_text().split()
                if quota != "max":
                    return int(quota) / int(period)
            elif "cpu" in controllers.split(","):
                folder = base / "cpu" / path.lstrip("/")
                quota = (folder / "cpu.cfs_quota_us").read_text().strip()
                period = (folder / "cpu.cfs_period_us").read_text().strip()
                if int(quota) > 0:
                    return int(quota) / int(period)
        except (OSError, ValueError):
            continue
    return None


def local(conn: Any, backend_pid: int, backend_start: float | None) -> CpuCount:
    """The CPUs of this machine when the server of ``conn`` is on it (its backend ``pid``
    started at ``backend_start`` by the server's clock), else why that is not known."""
    host = conn.info.host
    channel = _channel(host)
    if channel is None:
        return CpuCount(None, f"the server is at {host}, not on this machine: {ASK}")
    started = _started_at(backend_pid)
    try:
        cmdline = Path(f"/proc/{backend_pid}/cmdline").read_bytes()
    except OSError:
        cmdline = b""
    if (started is None or backend_start is None or b"postgres" not in cmdline
            or abs(started - backend_start) > START_SLACK_S):
        return CpuCount(None, f"connected over {channel}, but this session's backend (pid "
                              f"{backend_pid}) is not a process of this machine (a container "
                              f"or a tunnel): {ASK}")
    try:
        cpus = len(os.sched_getaffinity(backend_pid))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 0
    if cpus <= 0:
        return CpuCount(None, f"the server is on this machine but its CPU count is not "
                              f"readable: {ASK}")
    quota = _quota(backend_pid)
    how = (f"{cpus} CPUs: the server is on this machine (connected over {channel}; its "
           f"backend pid {backend_pid} runs here)")
    if quota is not None and quota < cpus:
        capped = max(1, math.ceil(quota))
        return CpuCount(capped, how.replace(f"{cpus} CPUs:", f"{capped} CPUs (a cgroup quota "
                                            f"of {quota:g} of its {cpus}):", 1))
    return CpuCount(cpus, how)
