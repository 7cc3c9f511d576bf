"""Run every probe over one safe session and assemble the immutable :class:`Snapshot`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import errors as pgerrors

# Probe modules register themselves on import; the order here is the run order.
from pgcrisis.collect import (  # noqa: F401
    probe_activity,
    probe_cron,
    probe_matviews,
    probe_relations,
    probe_statements,
)
from pgcrisis.collect.probe import PROBES, ProbeContext, ProbeOptions
from pgcrisis.collect.server import read_server
from pgcrisis.errors import ConnectError, ProbeUnavailable
from pgcrisis.model.snapshot import Snapshot


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def collect(conn: psycopg.Connection[Any], options: ProbeOptions | None = None) -> Snapshot:
    """Read every part; a part that cannot be read is recorded with the reason, not raised."""
    server = read_server(conn)
    ctx = ProbeContext(conn=conn, server=server, options=options or ProbeOptions(), queries=1)
    fields: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for spec in PROBES.values():
        try:
            part_fields = spec.func(ctx)
        except ProbeUnavailable as exc:
            unavailable[spec.part] = exc.reason
            continue
        except pgerrors.InsufficientPrivilege as exc:
            unavailable[spec.part] = f"permission denied: {_first_line(exc)}"
            continue
        except pgerrors.LockNotAvailable:
            unavailable[spec.part] = "a lock it needed was not granted within lock_timeout"
            continue
        except pgerrors.QueryCanceled:
            unavailable[spec.part] = "it ran past statement_timeout"
            continue
        except psycopg.OperationalError as exc:
            raise ConnectError(f"lost the connection while reading {spec.part}: "
                               f"{_first_line(exc)}") from None
        except psycopg.Error as exc:
            unavailable[spec.part] = f"query failed: {_first_line(exc)}"
            continue
        fields.update(part_fields)
        ctx.collected[spec.part] = part_fields
    return Snapshot(
        server=server,
        taken_at=datetime.now(UTC),
        unavailable=unavailable,
        query_count=ctx.queries,
        **fields,
    )
