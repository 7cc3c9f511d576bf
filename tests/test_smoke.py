"""The spine works end to end on a real server."""

from tests.helpers import PgServer, triage


def test_triage_on_empty_database(pg: PgServer, db: str) -> None:
    report = triage(db)
    assert report.snapshot.server.database.startswith("t_")
    assert report.exit_code == 0
