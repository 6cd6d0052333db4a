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

from collections.abc import Callable
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

FORMAT = 1  # bump when the shape below changes


def to_data(catalog: Catalog, name_of: Callable[[str], str] | None = None) -> dict[str, Any]:
    def _origin(origin: Origin | None) -> list[Any] | None:
        return _stored_origin(origin, name_of)

    def _table(table: Table) -> dict[str, Any]:
        return _stored_table(table, name_of)

    return {
        "format": FORMAT,
        "tables": [_table(table) for table in catalog.tables.values()],
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
    def _origin_from(data: list[Any] | None) -> Origin | None:
        return _loaded_origin(data, path_of)

    def _table_from(item: dict[str, Any]) -> Table:
        return _loaded_table(item, path_of)

    if data.get("format") != FORMAT:
        raise ValueError(f"catalog data of format {data.get('format')!r}, expected {FORMAT}")
    catalog = Catalog()
    for item in data["tables"]:
        catalog.tables[(item["schema"], item["name"])] = _table_from(item)
    for item in data["tables"]:  # foreign keys once every table is there
        table = catalog.tables[(item["schema"], item["name"])]
        catalog.set_foreign_keys(table, tuple(ForeignKey(name, tuple(columns), (target[0], target[1]))
                                              for name, columns, target in item["foreign_keys"]))
    for schema, name, table_key, unique, partial, columns, origin in data["indexes"]:
        catalog.put_index(Index(schema, name, (table_key[0], table_key[1]), unique, partial, frozenset(columns),
                                _origin_from(origin)))
    for schema, table, name, function, origin in data["triggers"]:
        key = FunctionKey(function[0], function[1], tuple(function[2]))
        catalog.put_trigger(Trigger(schema, table, name, key, _origin_from(origin)))
    for schema, table, name, origin in data["policies"]:
        catalog.put_policy(Policy(schema, table, name, _origin_from(origin)))
    for schema, name, args, definer, pinned, volatility, origin in data["functions"]:
        catalog.put_function(Function(schema, name, tuple(args), definer, pinned, volatility, _origin_from(origin)))
    for bucket_id, values, origin in data["buckets"]:
        catalog.buckets[bucket_id] = Bucket(bucket_id, {k: _value_from(v) for k, v in values.items()},
                                            _origin_from(origin))
    for relation, views in data["dependents"]:
        for view in views:
            catalog.add_dependent((relation[0], relation[1]), (view[0], view[1]))
    for kind, key, origin in data["named"]:
        named_key = (key[0], key[1]) if len(key) == 2 else (key[0],)
        catalog.named[(kind, named_key)] = Named(kind, named_key, _origin_from(origin))
    return catalog


def _stored_table(table: Table, name_of: Callable[[str], str] | None) -> dict[str, Any]:
    def _origin(origin: Origin | None) -> list[Any] | None:
        return _stored_origin(origin, name_of)

    return {
        "schema": table.schema, "name": table.name, "kind": table.kind, "temporary": table.temporary,
        "external": table.external, "origin": _origin(table.origin), "rls_enabled": table.rls_enabled,
        "rls_forced": table.rls_forced,
        "columns": [[c.name, c.type_name, [_value(m) for m in c.type_mods], c.base_type, c.not_null, c.default,
                     _origin(c.origin)] for c in table.columns.values()],
        "checks": [[c.name, sorted(c.columns), sorted(c.not_null_columns), c.validated, _origin(c.origin)]
                   for c in table.checks.values()],
        "foreign_keys": [[fk.name, list(fk.columns), list(fk.target)] for fk in table.foreign_keys],
    }


def _loaded_table(item: dict[str, Any], path_of: Callable[[str], str] | None) -> Table:
    def _origin_from(data: list[Any] | None) -> Origin | None:
        return _loaded_origin(data, path_of)

    table = Table(item["schema"], item["name"], item["kind"], item["temporary"], item["external"],
                  _origin_from(item["origin"]))
    table.rls_enabled, table.rls_forced = item["rls_enabled"], item["rls_forced"]
    for name, type_name, mods, base, not_null, default, origin in item["columns"]:
        table.columns[name] = Column(name, type_name, tuple(_value_from(m) for m in mods), base, not_null, default,
                                     _origin_from(origin))
    for name, columns, not_null_columns, validated, origin in item["checks"]:
        table.checks[name] = Check(name, frozenset(columns), frozenset(not_null_columns), validated,
                                   _origin_from(origin))
    return table


def _stored_origin(origin: Origin | None, name_of: Callable[[str], str] | None) -> list[Any] | None:
    if origin is None:
        return None
    return [origin.path if name_of is None else name_of(origin.path), origin.offset]


def _loaded_origin(data: list[Any] | None, path_of: Callable[[str], str] | None) -> Origin | None:
    if data is None:
        return None
    return Origin(data[0] if path_of is None else path_of(data[0]), data[1])


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
