"""Faster answers from moto for what pushgate asks, with the same results: a global secondary
index served from a lookup table instead of a scan of the table, and SQS sends that do not
count the whole queue.

moto answers a Query on a GSI by testing every item of the table, so a deliver job's device
query costs O(devices of every app). `IndexedQueries` keeps, per table and index, the items
grouped by the index's hash key value, built on the first query after a write to the table
and then reused; `Table.query` runs unchanged on those candidates (range conditions, order,
paging, projection and filters are moto's own), so it answers exactly what it answers over
the whole table. What counts as a write is decided per request by the emulator
(`note_request`), which runs every DynamoDB call under its lock.

moto's `SendMessage` and `ReceiveMessage` read `queue.attributes` for one value per message,
and that property counts the queue's delayed, in-flight and visible messages each time:
O(queue length) per message sent or received. `install()` makes it a mapping whose values
are computed when read, each as moto computes it. And a response class's method names are
looked up once per class, not once per request.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["install", "note_request"]

# DynamoDB operations that change no item: every other operation invalidates what it names.
_READS = frozenset(
    {
        "BatchGetItem",
        "DescribeContinuousBackups",
        "DescribeTable",
        "DescribeTimeToLive",
        "GetItem",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
        "TransactGetItems",
    }
)
_installed = threading.Lock()


class _Generations:
    """A counter per table name, bumped by every write to it; `everything` for writes that
    name no table the emulator can read (PartiQL, restores, table changes)."""

    def __init__(self) -> None:
        self.tables: dict[str, int] = {}
        self.everything = 0

    def key(self, table_name: str) -> tuple[int, int]:
        return self.everything, self.tables.get(table_name, 0)

    def bump(self, names: list[str] | None) -> None:
        if names is None:
            self.everything += 1
            return
        for name in names:
            self.tables[name] = self.tables.get(name, 0) + 1


_generations = _Generations()


def note_request(operation: str, body: bytes) -> None:
    """Called by the emulator under its DynamoDB lock, before and after each DynamoDB
    request (`operation` without the service): a write makes the indexes of the tables it
    names stale."""
    if operation in _READS:
        return
    _generations.bump(_written_tables(operation, body))


def _written_tables(operation: str, body: bytes) -> list[str] | None:
    """The tables a write names, or None when it cannot tell (then every index is stale)."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return None
    names: list[Any] = []
    if not isinstance(request, dict):
        return None
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        names = [request.get("TableName")]
    elif operation == "BatchWriteItem":
        items = request.get("RequestItems")
        names = list(items) if isinstance(items, dict) else [None]
    elif operation == "TransactWriteItems":
        for entry in request.get("TransactItems") or [None]:
            actions = entry.values() if isinstance(entry, dict) else [None]
            names += [a.get("TableName") if isinstance(a, dict) else None for a in actions]
    else:
        names = [None]
    if not all(isinstance(name, str) for name in names):
        return None
    return [_table_name(name) for name in names]


def _table_name(name: str) -> str:
    """A table's name from its name or ARN (`arn:aws:dynamodb:...:table/NAME`)."""
    return name.rsplit(":table/", 1)[-1] if name.startswith("arn:") else name


class _Candidates:
    """One table's items grouped by one GSI's hash key value, in the table's own order."""

    def __init__(self, key: tuple[Any, ...], groups: dict[Any, list[Any]]) -> None:
        self.key = key
        self.groups = groups


def _index_candidates(table: Any, index_name: str, attribute: str) -> _Candidates:
    from moto.dynamodb.models.table import Item

    key = (_generations.key(table.name), id(table.items), index_name)
    cache: dict[str, _Candidates] = table.__dict__.setdefault("_pushgate_gsi_cache", {})
    found = cache.get(index_name)
    if found is not None and found.key == key:
        return found
    groups: dict[Any, list[Any]] = {}
    for item in table.all_items():
        if not isinstance(item, Item):
            continue
        value = item.attrs.get(attribute)
        if not value:  # moto's own test: such an item never matches
            continue
        try:
            # DynamoType hashes and compares by (type, value as moto compares it), so the
            # group of a value holds exactly the items moto's scan would find equal to it.
            groups.setdefault(value, []).append(item)
        except TypeError:  # an unhashable value (a set or a list) equals no key value
            continue
    found = cache[index_name] = _Candidates(key, groups)
    return found


# `Table.query(hash_key, range_comparison, range_objs, limit, exclusive_start_key,
# scan_index_forward, projection_expressions, index_name, ...)`, as moto's backend calls it.
_INDEX_NAME_POSITION = 7


def _indexed_query(original: Any) -> Any:
    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) > _INDEX_NAME_POSITION:
            index_name = args[_INDEX_NAME_POSITION]
        else:
            index_name = kwargs.get("index_name")
        conditions = kwargs.get("hash_key_conditions")
        index = _single_hash_gsi(self, index_name)
        if index is None or not conditions or len(conditions) != 1 or conditions[0][0] != index:
            return original(self, *args, **kwargs)
        try:
            hash(conditions[0][1])
        except TypeError:
            return original(self, *args, **kwargs)
        candidates = _index_candidates(self, index_name, index)
        subset = list(candidates.groups.get(conditions[0][1], ()))
        # moto's own query over the candidates: every item it would keep is among them,
        # in the table's order.
        self.__dict__["all_items"] = lambda: subset
        try:
            return original(self, *args, **kwargs)
        finally:
            self.__dict__.pop("all_items", None)

    query.__wrapped__ = original  # type: ignore[attr-defined]
    return query


def _single_hash_gsi(table: Any, index_name: str | None) -> str | None:
    """The hash key attribute of `index_name` when it is a GSI with a one-attribute hash."""
    if not index_name:
        return None
    for index in table.global_indexes:
        if index.name == index_name:
            hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
            return hashes[0] if len(hashes) == 1 else None
    return None


class _QueueAttributes(Mapping[str, Any]):
    """`Queue.attributes` with each value computed when it is read, as moto computes it:
    moto reads one or two attributes per message sent or received (ContentBasedDeduplication,
    MessageRetentionPeriod), and the whole dict counts the queue's messages three times."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        if queue.policy:
            names.append("Policy")
        if queue.redrive_policy:
            names.append("RedrivePolicy")
        self._names = dict.fromkeys(names)

    def __getitem__(self, key: str) -> Any:
        from moto.core.utils import camelcase_to_underscores

        if key not in self._names:
            raise KeyError(key)
        queue = self._queue
        if key == "Policy" and queue.policy:
            value = queue.policy
        elif key == "RedrivePolicy" and queue.redrive_policy:
            value = json.dumps(queue.redrive_policy)
        else:
            value = getattr(queue, camelcase_to_underscores(key))
        return str(value).lower() if isinstance(value, bool) else value

    def __contains__(self, key: object) -> bool:
        return key in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _method_names(original: Any) -> Any:
    """moto's `method_names_from_class`, once per class: it runs `inspect.getmembers` on the
    response class for every request to find the action's method."""
    names = functools.lru_cache(maxsize=None)(lambda clazz: tuple(original(clazz)))
    return lambda clazz: list(names(clazz))


def install() -> None:
    """Patches moto's DynamoDB `Table.query`, SQS `Queue.attributes` and the per-request
    lookup of a response class's methods (once)."""
    from moto.core import responses
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import Queue

    with _installed:
        if getattr(Table, "_pushgate_indexed", False):
            return
        responses.method_names_from_class = _method_names(responses.method_names_from_class)
        Table.query = _indexed_query(Table.query)  # type: ignore[method-assign]
        Queue.moto_attributes = Queue.attributes  # type: ignore[attr-defined]
        Queue.attributes = property(_QueueAttributes)  # type: ignore[assignment,method-assign]
        Table._pushgate_indexed = True  # type: ignore[attr-defined]
