"""The shipped JSON Schema holds objects to the contract's identifying keys, kind by kind.

Every report a test produces is validated against the schema (tests/helpers.py), so these
tests make sure the schema itself is strict: an object missing its kind's key is rejected,
not waved through. The table mirrors the contract's (shared/spec/triage-contract.md).
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from pgcrisis.model.findings import ObjectRef
from tests.helpers import TRIAGE_SCHEMA

#: one valid object per kind, and the keys that identify it (``name`` is every kind's too)
OBJECTS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "backend": ({"kind": "backend", "pid": 4121, "name": "ordersvc"}, ("pid",)),
    "relation": ({"kind": "relation", "name": "public.orders"}, ()),
    "index": ({"kind": "index", "name": "public.orders_pkey"}, ()),
    "matview": ({"kind": "matview", "name": "public.mv_customer_totals"}, ()),
    "query": ({"kind": "query", "queryid": -4_611_686_018_427_387_904, "id": 1,
               "name": "SELECT * FROM orders WHERE id = $1"}, ("queryid",)),
    "setting": ({"kind": "setting", "name": "jit"}, ()),
    "job": ({"kind": "job", "jobid": 7, "id": 7, "name": "nightly-cleanup"}, ("jobid",)),
    "role": ({"kind": "role", "name": "app"}, ()),
    "database": ({"kind": "database", "name": "app"}, ()),
    "client": ({"kind": "client", "application_name": "integration-sync",
                "client_addr": "127.0.0.1", "name": "integration-sync@127.0.0.1"},
               ("application_name",)),
    "prepared-xact": ({"kind": "prepared-xact", "gid": "payment-7781", "name": "payment-7781"},
                      ("gid",)),
    "slot": ({"kind": "slot", "slot_name": "crm_cdc", "name": "crm_cdc"}, ("slot_name",)),
}


def _report(*objects: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": "pgcrisis.triage/1",
        "target": {"server_version": "15.18", "database": "app"},
        "started_at": "2026-11-26T09:14:03Z",
        "duration_ms": 812.4,
        "findings": [{"code": "blocking-lock", "severity": "critical", "title": "t",
                      "detail": "d", "objects": list(objects), "evidence": {}}],
        "skipped": [],
    }


def _rejected(obj: dict[str, Any]) -> bool:
    try:
        jsonschema.validate(_report(obj), TRIAGE_SCHEMA)
    except jsonschema.ValidationError:
        return True
    return False


def test_every_kind_of_the_schema_has_a_case() -> None:
    kinds = TRIAGE_SCHEMA["$defs"]["object"]["properties"]["kind"]["enum"]
    assert sorted(kinds) == sorted(OBJECTS)


def test_an_object_of_each_kind_with_its_keys_is_valid() -> None:
    jsonschema.validate(_report(*(obj for obj, _ in OBJECTS.values())), TRIAGE_SCHEMA)


@pytest.mark.parametrize(("kind", "key"), [(kind, key) for kind, (_, keys) in OBJECTS.items()
                                           for key in (*keys, "name")])
def test_an_object_missing_its_identifying_key_is_rejected(kind: str, key: str) -> None:
    obj = copy.deepcopy(OBJECTS[kind][0])
    del obj[key]
    assert _rejected(obj), f"a {kind} without {key} passed the schema"


@pytest.mark.parametrize("kind", ["relation", "index", "matview"])
def test_relation_like_names_must_be_schema_qualified(kind: str) -> None:
    assert _rejected({"kind": kind, "name": "orders"})


@pytest.mark.parametrize("obj", [
    {"kind": "query", "queryid": 2**63, "name": "q"},          # beyond a signed 64-bit integer
    {"kind": "query", "queryid": "42", "name": "q"},           # a string, not a number
    {"kind": "job", "id": 7, "name": "j"},                     # id alone is not the contract's key
    {"kind": "backend", "pid": 1, "name": ""},                 # a name a person cannot read
    {"kind": "prepared-xact", "gid": "", "name": "x"},
])
def test_malformed_keys_are_rejected(obj: dict[str, Any]) -> None:
    assert _rejected(obj)


@pytest.mark.parametrize("ref", [
    ObjectRef("query", queryid=-42, name="SELECT 1"),
    ObjectRef("job", jobid=7, name="cleanup"),
    ObjectRef.client("crm-sync", "10.0.0.7"),
    ObjectRef.client("crm-sync", None),
    ObjectRef("prepared-xact", gid="p-1", name="p-1"),
    ObjectRef("slot", slot_name="crm_cdc", name="crm_cdc"),
    ObjectRef("backend", pid=99, name="psql"),
], ids=lambda ref: ref.kind)
def test_object_refs_serialise_to_valid_objects(ref: ObjectRef) -> None:
    jsonschema.validate(_report(ref.to_json()), TRIAGE_SCHEMA)


def test_id_mirrors_the_contract_keys_of_queries_and_jobs() -> None:
    """``id`` stays (the contract only adds keys): readers of ``id`` and of ``queryid`` or
    ``jobid`` see the same number, whichever a check set."""
    assert ObjectRef("query", queryid=42, name="q").to_json() == {
        "kind": "query", "queryid": 42, "id": 42, "name": "q"}
    assert ObjectRef("job", id=7, name="j") == ObjectRef("job", jobid=7, name="j")
    assert ObjectRef("job", jobid=7, name="j").id == 7
    client = ObjectRef.client("", None).to_json()
    assert client == {"kind": "client", "application_name": "", "name": "(no name)@local"}
