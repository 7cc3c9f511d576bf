"""Make docs/images/top-blocking-tree.svg from a real run (not a hand-made moment).

Starts a throwaway PostgreSQL, builds a real lock chain (a long statement, an ALTER TABLE
queued behind it, readers queued behind the ALTER), opens ``pgcrisis top`` on it headless at
120x40, shows the blocking tree and saves the screen. Run from the repository root:

    PYTHONPATH=. uv run python docs/top_screenshot.py
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psycopg
from tests.scenarios.locks import ActiveStatementChain

from pgcrisis.dsn import Target
from pgcrisis.embedded import EmbeddedServer
from pgcrisis.presentation.top.app import TopApp
from pgcrisis.top.live.sampling import LiveSource

OUT = Path(__file__).parent / "images" / "top-blocking-tree.svg"


async def _shoot(app: TopApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 30
        while len(app.blocking.lines()) < 5:
            assert time.monotonic() < deadline, "the chain never showed"
            await pilot.pause(0.2)
        await pilot.press("2")
        await pilot.pause(0.3)
        await pilot.press("down")
        await pilot.pause(1.5)  # a few more samples: the waits grow
        app.save_screenshot(OUT.name, path=str(OUT.parent))


def main() -> None:
    server = EmbeddedServer().start()
    try:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute('CREATE DATABASE shop')
        dsn = server.dsn_for("shop")
        with ActiveStatementChain(dsn, readers=3):
            source = LiveSource(Target(dsn, "docs"), interval_s=0.5)
            source.start()
            try:
                asyncio.run(_shoot(TopApp(source, target=Target(dsn, "docs"))))
            finally:
                source.stop()
    finally:
        server.stop()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
