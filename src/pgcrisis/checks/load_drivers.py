"""Who drives a saturation, as every saturation check names it: the clients' shares of the
load, the objects a finding lists root first (statements, clients, the role), a statement's
name (its text and queryid) and the remedy (cancel its sessions' statements, cap its role,
JIT off where JIT is much of its time, ending the client as an option). Shared by
:mod:`pgcrisis.checks.load` (CPU, I/O), :mod:`pgcrisis.checks.load_writes`,
:mod:`pgcrisis.checks.load_results` and :mod:`pgcrisis.checks.index_overhead`."""

from __future__ import annotations

from collections.abc import Callable

from pgcrisis import shorten
from pgcrisis.actions import Action, Cancel, CapConnections, SetSetting, TerminateSessions
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.evidence import ClientShare, StatementShare
from pgcrisis.model.findings import ObjectRef, Remedy
from pgcrisis.model.load import ClientLoad, LoadProfile, StatementLoad
from pgcrisis.model.snapshot import Snapshot


def client_shares(profile: LoadProfile, seen: Callable[[ClientLoad], float], total: float,
                   t: Thresholds) -> list[tuple[ClientLoad, ClientShare]]:
    """The clients whose sessions make the load, largest first."""
    if total <= 0:
        return []
    out = [(c, ClientShare(application_name=c.application, client_addr=c.address, role=c.role,
                           sessions=round(seen(c), 2), share=round(seen(c) / total, 3)))
           for c in profile.clients if seen(c) / total >= t.load_driver_min_share]
    return sorted(out, key=lambda pair: -pair[1].share)[:3]


def driver_objects(statements: list[tuple[StatementLoad, StatementShare]],
                   clients: list[tuple[ClientLoad, ClientShare]]) -> tuple[ObjectRef, ...]:
    """Root first: the statements, then the clients, then the role of the first."""
    objects = [ObjectRef("query", queryid=s.queryid,
                         name=shorten.query(s.query, 60) if s.query else f"query {s.queryid}")
               for s, _ in statements]
    objects += [ObjectRef.client(c.application, c.address) for c, _ in clients]
    role = (statements[0][0].role if statements and statements[0][0].role
            else clients[0][0].role if clients else None)
    if role:
        objects.append(ObjectRef("role", name=role))
    return tuple(objects)


def named(s: StatementLoad) -> str:
    """A statement as findings name it: its text on one line, cut, and its queryid."""
    text = shorten.query(s.query, 60) if s.query else "a statement whose text is not known"
    return f"{text} (query {s.queryid})"


def saturation_remedy(snapshot: Snapshot, statements: list[tuple[StatementLoad, StatementShare]],
                      clients: list[tuple[ClientLoad, ClientShare]], cap: int, lasting: str,
                      t: Thresholds) -> Remedy:
    """Cancel what the driving statement's sessions run now, cap its role, JIT off for the
    role where JIT is much of its time; ending the driving client is an option."""
    actions: list[Action] = []
    top = statements[0][0] if statements else None
    if top is not None:
        pids = [b.pid for b in snapshot.activity
                if b.query_id == top.queryid and b.state == "active" and b.is_client]
        if pids:
            actions.append(Cancel.of(pids))
    role = (top.role if top is not None and top.role
            else clients[0][0].role if clients else None)
    server = snapshot.server
    superuser = role == server.current_user and server.is_superuser
    if role and role != "?":
        if not superuser:  # a CONNECTION LIMIT never applies to a superuser
            actions.append(CapConnections(role, cap))
        if top is not None and top.jit_share >= t.jit_min_share:
            actions.append(SetSetting("jit", "off", "role", role))
    if clients and clients[0][1].share >= 0.5 and clients[0][0].application:
        c = clients[0][0]
        actions.append(TerminateSessions(c.application, c.role if c.role != "?" else None,
                                         option=f"end the client driving it ({c.label})"))
    what = named(top) if top is not None else "the statements above"
    return Remedy(
        f"Make {what} cheaper or run it less often ({lasting}); meanwhile cancel what its "
        "sessions run now and cap its role's connections so fewer run at once"
        + (", and turn JIT off for the role (JIT is "
           f"{top.jit_share:.0%} of the statement's time)" if any(
               isinstance(a, SetSetting) for a in actions) and top is not None else "")
        + ".", tuple(actions))


def tail_text(clients: list[tuple[ClientLoad, ClientShare]], hidden: tuple[str, ...],
              ) -> list[str]:
    """How a saturation's detail ends: the clients by share, then what the server hid."""
    parts = []
    if clients:
        parts.append("Clients: " + "; ".join(f"{c.label} (role {c.role}) {e.share:.0%}"
                                             for c, e in clients) + ".")
    if hidden:
        parts.append("Not seen: " + "; ".join(hidden) + ".")
    return parts
