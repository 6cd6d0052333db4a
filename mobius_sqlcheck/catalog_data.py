"""A catalog as plain data (dicts, lists, strings, numbers, booleans, None)
and back, so a snapshot can be stored as JSON (the history cache keeps the
catalog after each migration, keyed by content).

Only the records are stored; the reverse links are derived again on load by
the catalog's own primitives. A storage.buckets value the linter could not
know (`UNKNOWN`) is stored as {"unknown": true}. An origin's path is stored
as `name_of` names it and read back through `path_of` (the history cache
stores file names, so the directory may be spelled another way next run).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from mobius_sqlcheck.catalog import (
    Bucket,
    Catalog,
    Check,
    Column,
    ForeignKey,
    Function,
    FunctionKey,
    Index,
    Named,
    Origin,
    Policy,
    Table,
    Trigger,
)
from mobius_sqlcheck.nodes import UNKNOWN

FORMAT = 3  # bump when the shape below changes
# The shape, per record a list (field names would be most of the bytes):
#   table:  [schema, name, origin, foreign_keys, "<JSON of [kind, temporary,
#            external, rls_enabled, rls_forced, columns, checks]>"]: the bulk is a
#            string, decoded only when the table is first asked for (a long
#            history's snapshot decodes ten times faster so; LoadedRecords)
#   column: [name, type_name, type_mods, base_type (null: same as type_name), not_null, default, origin]
#   check:  [name, columns, not_null_columns, validated, origin]
# An origin is [file, offset]; a column's or check's origin in its table's
# file (most are: a table's columns come with it) is an int, its offset less
# the previous such one's (the table's first): small numbers that compress well.


def to_data(catalog: Catalog, name_of: Callable[[str], str] | None = None) -> dict[str, Any]:
    def _origin(origin: Origin | None) -> list[Any] | None:
        return _stored_origin(origin, name_of)

    return {
        "format": FORMAT,
        "tables": [_stored_table(table, name_of) for table in catalog.tables.values()],
        "indexes": [[i.schema, i.name, list(i.table), i.unique, i.partial, sorted(i.columns), _origin(i.origin)]
                    for i in catalog.indexes.values()],
        "triggers": [[t.schema, t.table, t.name, [t.function.schema, t.function.name, list(t.function.args)],
                      _origin(t.origin)] for t in catalog.triggers.values()],
        "policies": [[p.schema, p.table, p.name, _origin(p.origin)] for p in catalog.policies.values()],
        "functions": [[f.schema, f.name, list(f.args), f.security_definer, f.search_path_fixed, f.volatility,
                       _origin(f.origin)] for f in catalog.functions.values()],
        "buckets": [[b.id, {key: _value(value) for key, value in b.values.items()}, _origin(b.origin)]
                    for b in catalog.buckets.values()],
        "named": [[n.kind, list(n.key), _origin(n.origin)] for n in catalog.named.values()],
        "dependents": [[list(key), sorted(list(view) for view in catalog.dependents_of(key))]
                       for key in catalog.tables if catalog.dependents_of(key)],
    }


def from_data(data: dict[str, Any], path_of: Callable[[str], str] | None = None) -> Catalog:
    if data.get("format") != FORMAT:
        raise ValueError(f"catalog data of format {data.get('format')!r}, expected {FORMAT}")
    origin_from = _origin_reader(path_of)
    catalog = Catalog()
    catalog.tables = tables = LoadedRecords(lambda item: _loaded_table(item, origin_from), origin_from, 2)
    for item in data["tables"]:
        if len(item) != 5 or not isinstance(item[4], str):
            raise ValueError("a table of another shape")  # the rest is decoded on first use
        table_key = (item[0], item[1])
        tables.put_raw(table_key, item)
        for target in {(target[0], target[1]) for _, _, target in item[3]}:
            catalog.link_referrer(target, table_key)
    _load_indexes_and_functions(catalog, data, origin_from)
    for bucket_id, values, origin in data["buckets"]:
        catalog.buckets[bucket_id] = Bucket(bucket_id, {k: _value_from(v) for k, v in values.items()},
                                            origin_from(origin))
    for relation, views in data["dependents"]:
        for view in views:
            catalog.add_dependent((relation[0], relation[1]), (view[0], view[1]))
    for kind, key, origin in data["named"]:
        named_key = (key[0], key[1]) if len(key) == 2 else (key[0],)
        catalog.named[(kind, named_key)] = Named(kind, named_key, origin_from(origin))
    return catalog


def _load_indexes_and_functions(catalog: Catalog, data: dict[str, Any],
                                origin_from: Callable[[Any], Origin | None]) -> None:
    """Indexes, triggers, policies and functions kept as stored until asked
    for (LoadedRecords); their reverse links are made now, from the keys."""
    indexes: LoadedRecords = LoadedRecords(
        lambda i: Index(i[0], i[1], (i[2][0], i[2][1]), i[3], i[4], frozenset(i[5]), origin_from(i[6])), origin_from, 6)
    triggers: LoadedRecords = LoadedRecords(
        lambda t: Trigger(t[0], t[1], t[2], FunctionKey(t[3][0], t[3][1], tuple(t[3][2])), origin_from(t[4])),
        origin_from, 4)
    policies: LoadedRecords = LoadedRecords(lambda p: Policy(p[0], p[1], p[2], origin_from(p[3])), origin_from, 3)
    functions: LoadedRecords = LoadedRecords(
        lambda f: Function(f[0], f[1], tuple(f[2]), f[3], f[4], f[5], origin_from(f[6])), origin_from, 6)
    links: dict[str, dict[Any, list]] = {name: {} for name in (
        "_indexes_on", "_triggers_on", "_callers", "_policies_on", "_overloads")}
    for item in data["indexes"]:
        index_key = (item[0], item[1])
        indexes.put_raw(index_key, item)
        links["_indexes_on"].setdefault((item[2][0], item[2][1]), []).append(index_key)
    for item in data["triggers"]:
        key = (item[0], item[1], item[2])
        triggers.put_raw(key, item)
        links["_triggers_on"].setdefault((item[0], item[1]), []).append(key)
        links["_callers"].setdefault(FunctionKey(item[3][0], item[3][1], tuple(item[3][2])), []).append(key)
    for item in data["policies"]:
        key = (item[0], item[1], item[2])
        policies.put_raw(key, item)
        links["_policies_on"].setdefault((item[0], item[1]), []).append(key)
    for item in data["functions"]:
        function_key = FunctionKey(item[0], item[1], tuple(item[2]))
        functions.put_raw(function_key, item)
        links["_overloads"].setdefault((item[0], item[1]), []).append(function_key)
    catalog.indexes, catalog.triggers, catalog.policies, catalog.functions = indexes, triggers, policies, functions
    catalog.load_links(links)


class LoadedRecords(MutableMapping[Any, Any]):
    """A snapshot's records of one kind, each kept as stored (a list) until
    it is first asked for: the hook's run looks at the few tables and
    indexes its file touches, not at the thousands of a long history (its
    history rules ask only for the records of the files it reports:
    `origin_path`). In stored order, as a dict."""

    def __init__(self, make: Callable[[list[Any]], Any], origin_from: Callable[[Any], Origin | None],
                 origin_at: int) -> None:
        self._items: dict[Any, Any] = {}  # a record, or its stored list
        self._make = make
        self._origin_from = origin_from
        self._origin_at = origin_at  # where a stored record keeps its origin

    def put_raw(self, key: Any, item: list[Any]) -> None:
        self._items[key] = item

    def __getitem__(self, key: Any) -> Any:
        value = self._items[key]
        if value.__class__ is list:
            value = self._items[key] = self._make(value)  # keeps its place
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        self._items[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def origin_path(self, key: Any) -> str | None:
        """The file of the record's origin, loaded or not."""
        value = self._items[key]
        if value.__class__ is list:
            origin = self._origin_from(value[self._origin_at])
            return origin.path if origin is not None else None
        return value.origin.path if value.origin is not None else None


def _stored_table(table: Table, name_of: Callable[[str], str] | None) -> list[Any]:
    origin = _stored_origin(table.origin, name_of)
    home = origin[0] if origin is not None else None
    previous = origin[1] if origin is not None else 0

    def _part_origin(part: Origin | None) -> Any:
        nonlocal previous
        stored = _stored_origin(part, name_of)
        if stored is None or stored[0] != home:
            return stored
        delta, previous = stored[1] - previous, stored[1]
        return delta

    columns = [[c.name, c.type_name, [_value(m) for m in c.type_mods], None if c.base_type == c.type_name else c.base_type,
                c.not_null, c.default, _part_origin(c.origin)] for c in table.columns.values()]
    checks = [[c.name, sorted(c.columns), sorted(c.not_null_columns), c.validated, _part_origin(c.origin)]
              for c in table.checks.values()]
    import orjson

    rest = orjson.dumps([table.kind, table.temporary, table.external, table.rls_enabled, table.rls_forced, columns,
                         checks]).decode("utf-8")
    return [table.schema, table.name, origin, [[fk.name, list(fk.columns), list(fk.target)] for fk in table.foreign_keys],
            rest]


def _loaded_table(item: list[Any], origin_from: Callable[[Any], Origin | None]) -> Table:
    schema, name, origin, foreign_keys, rest = item
    kind, temporary, external, rls_enabled, rls_forced, columns, checks = json.loads(rest)
    table_origin = origin_from(origin)
    home = table_origin.path if table_origin is not None else None
    previous = table_origin.offset if table_origin is not None else 0

    def part_origin(stored: Any) -> Origin | None:
        nonlocal previous
        if isinstance(stored, int) and home is not None:
            previous += stored
            return Origin(home, previous)
        return origin_from(stored)

    table = Table(schema, name, kind, temporary, external, table_origin)
    table.rls_enabled, table.rls_forced = rls_enabled, rls_forced
    # The reverse links were made on load (from_data): only the record here.
    table.foreign_keys = tuple(ForeignKey(fk_name, tuple(fk_columns), (target[0], target[1]))
                               for fk_name, fk_columns, target in foreign_keys)
    table.columns = {column_name: Column(column_name, type_name, tuple(_value_from(m) for m in mods) if mods else (),
                                         type_name if base is None else base, not_null, default, part_origin(at))
                     for column_name, type_name, mods, base, not_null, default, at in columns}
    table.checks = {check_name: Check(check_name, frozenset(check_columns), frozenset(not_null_columns), validated,
                                      part_origin(at))
                    for check_name, check_columns, not_null_columns, validated, at in checks}
    return table


def _stored_origin(origin: Origin | None, name_of: Callable[[str], str] | None) -> list[Any] | None:
    if origin is None:
        return None
    return [origin.path if name_of is None else name_of(origin.path), origin.offset]


def _origin_reader(path_of: Callable[[str], str] | None) -> Callable[[Any], Origin | None]:
    """Reads stored origins, asking `path_of` once per file named."""
    paths: dict[str, str] = {}

    def origin_from(data: list[Any] | None) -> Origin | None:
        if data is None:
            return None
        name = data[0]
        path = paths.get(name)
        if path is None:
            path = paths[name] = name if path_of is None else path_of(name)
        return Origin(path, data[1])

    return origin_from


def _value(value: Any) -> Any:
    if value is UNKNOWN:
        return {"unknown": True}
    if isinstance(value, list):
        return [_value(item) for item in value]
    return value


def _value_from(data: Any) -> Any:
    if data == {"unknown": True}:
        return UNKNOWN
    if isinstance(data, list):
        return [_value_from(item) for item in data]
    return data
