"""Facts about the server and the diagnostic session itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Version, database, our own pid, settings and extensions, read once per triage."""

    version_num: int
    server_version: str
    database: str
    current_user: str
    is_superuser: bool
    own_pid: int
    settings: Mapping[str, str] = field(default_factory=dict)
    extensions: Mapping[str, str] = field(default_factory=dict)  # installed here: name -> version
    available_extensions: frozenset[str] = frozenset()
    preloaded: frozenset[str] = frozenset()  # shared_preload_libraries entries
    can_read_all_stats: bool = False

    def setting_int(self, name: str, default: int = 0) -> int:
        """A numeric setting, or ``default`` when absent or not a number."""
        try:
            return int(self.settings[name])
        except (KeyError, ValueError):
            return default

    @property
    def block_size(self) -> int:
        """Bytes per page; sizes come from relpages times this, never pg_relation_size."""
        return self.setting_int("block_size", 8192)

    @property
    def lock_table_size(self) -> int:
        """Slots in the shared lock table: max_locks_per_transaction x (connections + prepared)."""
        return self.setting_int("max_locks_per_transaction", 64) * (
            self.setting_int("max_connections", 100)
            + self.setting_int("max_prepared_transactions", 0)
        )
