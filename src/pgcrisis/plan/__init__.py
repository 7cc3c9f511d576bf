"""EXPLAIN plan analysis: pure code (no database, no terminal), streaming, bounded memory.

The one module here that talks to a server is :mod:`.capture` (``explain --query``), apart
from the analysis: it runs the user's statement under EXPLAIN ANALYZE and always rolls back.

``analyse(open_input(path))`` reads a plan (JSON in any layout, psql's decorated output,
text format, gzip) and returns a :class:`~pgcrisis.plan.model.PlanAnalysis`. Big JSON, in
any layout, goes node by node (``_nodescan``: each node decoded by msgspec, in C, into the
typed record of ``_node``; ``_nodetext`` and ``_textbuffer`` beside it); small JSON through
the strict token-by-token parser (``_jsonscan``, which also names the line and byte offset
of any syntax error); text plans through ``_textscan`` (the tree) and ``_textlines`` (what
a line says). All feed the same analyzer (``_analysis``: open nodes in ``_frame``, InitPlan
and CTE time in ``_subplans``, the nodes kept in ``_kept``, tips in ``_tipbook`` by the
rules of ``tips/``, sums and notes in ``_totals``), so results do not depend on the layout
(the tests check that they agree). ``whitespace`` is ``explain --compact``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

from pgcrisis.errors import InputError
from pgcrisis.plan._analysis import Analyzer
from pgcrisis.plan._jsonscan import JsonScanner, valid_prefix
from pgcrisis.plan._nodescan import NodeScanner
from pgcrisis.plan._source import Input, from_stream, open_input
from pgcrisis.plan._textscan import TextScanner
from pgcrisis.plan.model import (
    Estimate,
    ForeignKey,
    NodeStat,
    PathStep,
    PlanAnalysis,
    Summary,
    TableStats,
    Tip,
    TriggerStat,
)
from pgcrisis.plan.tips.generic import TableLookup

__all__ = [
    "Estimate", "ForeignKey", "Input", "NodeStat", "PathStep", "PlanAnalysis", "Summary",
    "TableLookup", "TableStats", "Tip", "TriggerStat", "analyse", "analyse_bytes", "compact",
    "from_stream", "open_input",
]


#: JSON inputs at least this big are read in a child process while this one analyses
#: (``_twocores``), where the machine allows.
TWO_CORES_FROM = 32 << 20
#: JSON inputs at most this big are parsed strictly (every token checked, errors named by
#: line and what was expected); bigger ones node by node.
STRICT_LIMIT = 4 << 20


def analyse(source: Input, *, parser: str | None = None, force_general: bool = False,
            full_tree_limit: int | None = None, foreign_keys: Sequence[ForeignKey] = (),
            processes: int | None = None, estimates: bool = False,
            tables: TableLookup | None = None) -> PlanAnalysis:
    """Analyse a whole input in one streaming pass.

    ``parser`` forces ``"nodes"`` or ``"strict"`` (tests compare them); by default the
    size decides. ``foreign_keys`` (from the catalog, when
    the plan was captured) let the trigger tips name the index a foreign key lacks.
    ``processes`` 1 keeps the node scanner in this process, 2 moves it to a child; by
    default a JSON input of :data:`TWO_CORES_FROM` or more uses two where it can.
    ``estimates``: a plan without ANALYZE (a generic plan) also gets the tips its estimates
    alone support (:mod:`.tips.generic`), ``tables`` saying what the catalog knows of the
    tables it reads.
    """
    analyzer = Analyzer(estimates=estimates) if full_tree_limit is None else \
        Analyzer(full_tree_limit=full_tree_limit, estimates=estimates)
    analyzer.foreign_keys = {key.name: key for key in foreign_keys}
    analyzer.tables = tables
    chunks = source.chunks()
    if source.skipped_lines:
        analyzer.notes.append(f"{source.skipped_lines:,} line(s) of other text before the plan "
                              f"(a prompt, the command, comments) were skipped")
    if source.format == "text":
        TextScanner(analyzer, source.name).feed(chunks, source.position)
        return analyzer.result(input_format="text")
    if force_general:
        parser = "strict"
    if parser is None:
        if not valid_prefix(source.head):
            parser = "strict"  # it will say exactly what is wrong, and where
        elif source.size is None or source.compressed or source.size > STRICT_LIMIT:
            parser = "nodes"
        else:
            parser = "strict"
    if parser == "nodes":
        from pgcrisis.plan import _twocores  # multiprocessing: loaded for big plans only

        source.count_lines = False  # the scanner counts them, once, for its messages
        if processes is None:
            big = source.size is not None and source.size >= TWO_CORES_FROM
            processes = 2 if big and _twocores.available() else 1
        if processes > 1:
            _twocores.feed(source, analyzer, source.name)
        else:
            NodeScanner(analyzer, source.name).feed(chunks, source.position)
    else:
        JsonScanner(analyzer, source.name).feed(chunks, source.position)
    if source.trailing_plans:
        analyzer.notes.append(
            f"{source.trailing_plans:,} more plan(s) followed psql's row count and were not "
            f"read: only the first JSON plan was analysed (give each its own file)")
    elif source.trailing_lines:
        analyzer.notes.append(f"{source.trailing_lines:,} line(s) after the plan (a prompt, "
                              f"other output) were not read")
    return analyzer.result(input_format="json")


def analyse_bytes(data: bytes, *, name: str = "plan", parser: str | None = None,
                  force_general: bool = False, chunk_size: int | None = None,
                  full_tree_limit: int | None = None, foreign_keys: Sequence[ForeignKey] = (),
                  processes: int | None = None, estimates: bool = False,
                  tables: TableLookup | None = None) -> PlanAnalysis:
    """Analyse a plan held in memory (tests, captured plans, generic plans)."""
    kwargs = {} if chunk_size is None else {"chunk_size": chunk_size}
    source = from_stream(io.BytesIO(data), name=name, size=len(data), **kwargs)
    return analyse(source, parser=parser, force_general=force_general,
                   full_tree_limit=full_tree_limit, foreign_keys=foreign_keys,
                   processes=processes, estimates=estimates, tables=tables)


def compact(source: Input) -> Iterator[bytes | memoryview]:
    """The input's JSON with insignificant whitespace removed, chunk by chunk.

    PostgreSQL's indented layout is checked at its end (an unindented closing bracket), any
    other layout by counting brackets outside strings.
    """
    from pgcrisis.plan.whitespace import Compactor, looks_indented  # numpy: loaded here

    if source.format != "json":
        raise InputError(f"{source.name}: --compact needs a JSON plan; this is a text plan")
    compactor = Compactor(source.name)
    # (an extra indentation on every line, as some pastes have: brackets are counted)
    compactor.count_depth = not (looks_indented(source.head) and valid_prefix(source.head)
                                 and source.head.lstrip(b"\r\n")[:1] in (b"[", b"{"))
    source.count_lines = False
    return compactor.chunks(source.chunks())
