"""Big JSON plans on two cores: the node scanner reads and decodes in a child process, the
analysis runs in this one.

In one process, reading and decoding a big plan take about as long as analysing it, and
each waits for the other. Here a forked child runs :class:`~._nodescan.NodeScanner` on the
input (it inherits the open file) against :class:`_Recorder`, which stands in for the
analyzer and sends what it is told in batches, as msgpack (msgspec encodes and decodes the
typed nodes in C: a few microseconds a node). This process replays each batch into the real
:class:`~._analysis.Analyzer` while the child reads on. A batch is a bounded number of
nodes and the pipe holds at most one, so memory stays bounded whatever the plan's size.

What the child finds wrong with the input (every byte is still checked, by the same
scanner) comes back as the same message, raised here. Only where ``fork`` exists and the
machine has a second core; elsewhere, and for small inputs, the scanner runs in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.connection import Connection
from typing import Any

import msgspec

from pgcrisis.errors import InputError
from pgcrisis.plan._analysis import Analyzer
from pgcrisis.plan._jsonscan import Truncated
from pgcrisis.plan._node import PlanNode
from pgcrisis.plan._nodescan import NodeScanner
from pgcrisis.plan._source import Input
from pgcrisis.plan._values import Props
from pgcrisis.plan.model import TriggerStat

#: events per message: enough that a message costs little, few enough that the two processes
#: together stay near 50 MiB (2,000 made it 59)
BATCH = 500
_CLOSE = 0

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(list[PlanNode | int | list[Any]]).decode


def available() -> bool:
    """Whether a second process can take the reading (``fork``, and a second core)."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1


class _Recorder:
    """The analyzer as the child's scanner sees it: every call becomes an event.

    A node without children, decoded typed, is sent as it is (the bulk of a big plan);
    ``0`` closes the innermost node; anything else is a list naming the call. Dicts handed
    out (a node's keys from the exact path, keys after "Plans") are filled by the scanner
    before its next call, so they are complete when a batch goes, which is only ever at a
    node's end.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._events: list[Any] = []
        self.notes: list[str] = []

    def send(self, *control: Any) -> None:
        """Send what is recorded, with a control event last (``done``, ``error``)."""
        if control:
            self._events.append(list(control))
        self._connection.send_bytes(_encode(self._events))
        self._events = []

    def progress(self, done: int) -> None:
        self._events.append(["progress", done])

    def leaf(self, node: PlanNode) -> None:
        events = self._events
        events.append(node)
        if len(events) >= BATCH:
            self.send()

    def open_decoded(self, node: PlanNode, props: Props | None = None) -> None:
        self._events.append(["open_decoded", node])

    def open_node(self) -> Props:
        props: Props = {}
        self._events.append(["open", props])
        return props

    def late_keys(self) -> Props:
        props: Props = {}
        self._events.append(["late", props])
        return props

    def close_node(self) -> None:
        self._events.append(_CLOSE)
        self._maybe_send()

    def _maybe_send(self) -> None:
        if len(self._events) >= BATCH:
            self.send()

    def begin_plan(self) -> None:
        self._events.append(["begin_plan"])

    def end_plan(self) -> None:
        self._events.append(["end_plan"])

    def plan_value(self, key: str, value: Any) -> None:
        self._events.append(["plan_value", key, value])

    def worker_jit(self, total_ms: float) -> None:
        self._events.append(["worker_jit", total_ms])

    def jit(self, total_ms: float, functions: int | None) -> None:
        self._events.append(["jit", total_ms, functions])

    def trigger(self, stat: TriggerStat) -> None:
        self._events.append(["trigger", stat.name, stat.relation, stat.constraint,
                             stat.time_ms, stat.calls])

    def serialization(self, time_ms: float) -> None:
        self._events.append(["serialization", time_ms])


def _child(source: Input, name: str, connection: Connection, inherited: Connection) -> None:
    """The child's whole life: scan the input, send events, say how it ended.

    Ctrl-C is the parent's to report: the child starts with SIGINT blocked (see
    :func:`feed`), ignores it, then unblocks it. It closes its copy of the pipe's reading end
    first, so that once the parent stops reading (an error of its own, Ctrl-C, its death)
    the next send fails with a broken pipe and the child ends quietly; holding that copy, it
    would block on a full pipe forever and keep the parent's stderr open.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    inherited.close()
    recorder = _Recorder(connection)
    source.progress = recorder.progress
    control: tuple[Any, ...]
    try:
        try:
            NodeScanner(recorder, name).feed(  # type: ignore[arg-type]
                source.chunks(), source.position)
        except Truncated as exc:
            control = ("error", str(exc), True)
        except InputError as exc:
            control = ("error", str(exc), False)
        except Exception as exc:  # said in one line by the parent
            control = ("error", f"{name}: the plan reader failed: {exc!r}", False)
        else:
            control = ("done", source.trailing_plans, source.trailing_lines)
        recorder.send(*control)
    except (KeyboardInterrupt, OSError):
        pass
    finally:
        connection.close()


def feed(source: Input, analyzer: Analyzer, name: str) -> None:
    """Scan ``source`` in a child process and analyse what it decodes here.

    Raises :class:`InputError` (or :class:`Truncated`) with the child's message when the
    input is not a plan; sets the source's trailing counts as the child found them.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(source, name, sender, receiver), daemon=True)
    # SIGINT stays blocked across the fork: the child is born with it blocked (no traceback
    # from a Ctrl-C that lands while it starts), and one that arrives meanwhile is raised
    # here once unblocked, inside the ``try``, so the child is always ended and joined.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        try:
            child.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        sender.close()
        _replay_all(receiver, source, analyzer, name)
    finally:
        sender.close()
        receiver.close()
        if child.pid is not None:
            if child.is_alive():
                child.terminate()
            child.join()


def _replay_all(receiver: Connection, source: Input, analyzer: Analyzer, name: str) -> None:
    leaf = analyzer.leaf
    close_node = analyzer.close_node
    while True:
        try:
            events = _decode(receiver.recv_bytes())
        except EOFError:
            raise InputError(f"{name}: the plan reader stopped before the end of the "
                             f"input") from None
        for event in events:
            if type(event) is int:
                close_node()
            elif type(event) is list:
                if _call(event, source, analyzer):
                    return
            else:
                leaf(event)  # type: ignore[arg-type]


def _call(event: list[Any], source: Input, an: Analyzer) -> bool:
    """Replay one named call; True once the child is done."""
    name = event[0]
    if name == "open_decoded":  # a node with children (its keys arrive as a dict here)
        an.open_decoded(msgspec.convert(event[1], PlanNode))
    elif name == "open":
        an.open_node().update(event[1])
    elif name == "late":
        an.late_keys().update(event[1])
    elif name == "progress":
        if source.progress is not None:
            source.progress(event[1])
    elif name == "begin_plan":
        an.begin_plan()
    elif name == "end_plan":
        an.end_plan()
    elif name == "plan_value":
        an.plan_value(event[1], event[2])
    elif name == "worker_jit":
        an.worker_jit(event[1])
    elif name == "jit":
        an.jit(event[1], event[2])
    elif name == "trigger":
        an.trigger(TriggerStat(*event[1:]))
    elif name == "serialization":
        an.serialization(event[1])
    elif name == "done":
        source.trailing_plans, source.trailing_lines = event[1], event[2]
        return True
    elif name == "error":
        raise (Truncated if event[2] else InputError)(event[1])
    return False
