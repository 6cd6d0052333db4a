"""The catalog: a typed model of what the migrations have created so far,
replayed statement by statement.

Every kind of object has its own key type (`RelationKey`, `PartKey` for what
belongs to one table, `FunctionKey` with the argument types, so overloads are
distinct objects) and its own record. Reverse links (a table's indexes,
triggers and policies, the tables whose foreign keys point at a table, the
triggers calling a function) are not fields anyone keeps in sync: the
catalog derives them from the records, in the `put_*`/`remove_*` primitives
below and nowhere else, and answers them through `indexes_on`,
`triggers_on`, `policies_on`, `referrers_of` and `triggers_calling`.

`apply(statement, path)` replays one statement and returns the objects it
created as `ObjectRef`s; `path` is where they are recorded as created (the
caller says it; the catalog keeps no "current file"). Implicit removal lives
here, in one place: DROP TABLE takes its indexes, triggers, policies and
columns; DROP FUNCTION ... CASCADE takes the triggers that call it; DROP
SCHEMA ... CASCADE takes everything in the schema.

To check a rollback, the engine forks the catalog (a cheap copy-on-write
layer), replays the rollback on the fork, and asks which of the forward
migration's objects still exist.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Literal, MutableMapping, NamedTuple, TypeVar, get_args

from mobius_sqlcheck import nodes
from mobius_sqlcheck.nodes import UNKNOWN
from mobius_sqlcheck.parse import Statement

RelationKind = Literal["table", "view", "materialized view", "sequence"]
Kind = Literal["table", "view", "materialized view", "sequence", "column", "index", "trigger", "policy",
               "function", "type", "schema", "extension", "bucket"]
NamedKind = Literal["type", "schema", "extension"]
RELATION_KINDS: frozenset[str] = frozenset(get_args(RelationKind))

RelationKey = tuple[str, str]  # (schema, name): tables, views, sequences, indexes, types
PartKey = tuple[str, str, str]  # (schema, table, name): a column, trigger or policy of one table


class FunctionKey(NamedTuple):
    """A function's identity: PostgreSQL tells overloads apart by the types
    of their input arguments, so `f(int4)` and `f(text)` are two functions."""

    schema: str
    name: str
    args: tuple[str, ...]

    def display(self) -> str:
        return f"{self.schema}.{self.name}" + (f"({', '.join(self.args)})" if self.args else "")


ObjectKey = RelationKey | PartKey | FunctionKey | tuple[str]

BUCKETS_TABLE: RelationKey = ("storage", "buckets")

# Records are NamedTuples (immutable: a change makes a new one with
# `_replace`) or plain classes with a `copy()`, not dataclasses: the catalog is
# on the pre-commit hook's start-up path. Nothing reachable from a catalog is
# ever changed in place unless that catalog owns it (see `fork`).


class Origin(NamedTuple):
    """Where an object was created: a file and a byte offset in it."""

    path: str
    offset: int


class ObjectRef(NamedTuple):
    """A catalog object: its kind and its key, e.g. ("index", ("public", "idx_brands_org"))."""

    kind: Kind
    key: ObjectKey

    def relation(self) -> RelationKey:
        """(schema, name) of a relation or an index, or of the table a column,
        trigger or policy belongs to."""
        key: Any = self.key  # a RelationKey or PartKey for those kinds
        return (key[0], key[1])

    def describe(self) -> str:
        key = self.key
        if isinstance(key, FunctionKey):
            return f"function {key.display()}"
        if self.kind == "column":
            return f"column {nodes.display(key)}"
        if self.kind in ("trigger", "policy") and len(key) == 3:
            schema, table, name = key
            return f"{self.kind} {name} on {schema}.{table}"
        if self.kind == "bucket":
            return f"storage bucket '{key[0]}'"
        return f"{self.kind} {nodes.display(key)}"


class Column(NamedTuple):
    name: str
    type_name: str  # readable: `varchar(255)`, `text[]`
    type_mods: tuple[object, ...]
    base_type: str  # the last name without modifiers: `varchar`, `int4`
    not_null: bool = False
    default: dict | None = None
    origin: Origin | None = None


class ForeignKey(NamedTuple):
    name: str
    columns: tuple[str, ...]
    target: RelationKey


class Check(NamedTuple):
    """A CHECK constraint. `not_null_columns` are the columns it proves NOT
    NULL (`col IS NOT NULL`, alone or ANDed): once validated, SET NOT NULL on
    them skips its table scan (PostgreSQL 12+)."""

    name: str
    columns: frozenset[str]  # every column the expression reads
    not_null_columns: frozenset[str]
    validated: bool
    origin: Origin | None = None


class Table:
    """A relation of one of the `RelationKind`s. `external` marks a table
    only ever altered here (a platform table such as auth.users), never
    created. Its indexes, triggers and policies are asked of the catalog."""

    __slots__ = ("schema", "name", "kind", "columns", "rls_enabled", "rls_forced", "foreign_keys", "checks",
                 "temporary", "external", "origin")

    def __init__(self, schema: str, name: str, kind: RelationKind = "table", temporary: bool = False,
                 external: bool = False, origin: Origin | None = None) -> None:
        self.schema = schema
        self.name = name
        self.kind: RelationKind = kind
        self.columns: dict[str, Column] = {}
        self.rls_enabled = False
        self.rls_forced = False  # FORCE ROW LEVEL SECURITY: binds the owner too; does not enable RLS
        self.foreign_keys: tuple[ForeignKey, ...] = ()  # changed only through Catalog.set_foreign_keys
        self.checks: dict[str, Check] = {}
        self.temporary = temporary
        self.external = external
        self.origin = origin

    def __repr__(self) -> str:
        return f"Table({self.schema}.{self.name}, {self.kind})"

    @property
    def key(self) -> RelationKey:
        return (self.schema, self.name)

    def copy(self) -> Table:
        clone = Table(self.schema, self.name, self.kind, self.temporary, self.external, self.origin)
        clone.columns = dict(self.columns)
        clone.rls_enabled = self.rls_enabled
        clone.rls_forced = self.rls_forced
        clone.foreign_keys = self.foreign_keys
        clone.checks = dict(self.checks)
        return clone


class Index(NamedTuple):
    schema: str
    name: str
    table: RelationKey
    unique: bool = False
    partial: bool = False
    columns: frozenset[str] = frozenset()  # read by its keys, expressions or predicate
    origin: Origin | None = None

    @property
    def key(self) -> RelationKey:
        return (self.schema, self.name)


class Trigger(NamedTuple):
    schema: str
    table: str
    name: str
    function: FunctionKey
    origin: Origin | None = None

    @property
    def key(self) -> PartKey:
        return (self.schema, self.table, self.name)


class Policy(NamedTuple):
    schema: str
    table: str
    name: str
    origin: Origin | None = None

    @property
    def key(self) -> PartKey:
        return (self.schema, self.table, self.name)


class Function(NamedTuple):
    schema: str
    name: str
    args: tuple[str, ...] = ()  # input argument types, as in FunctionKey
    security_definer: bool = False
    search_path_fixed: bool = False
    volatility: str = "v"  # PostgreSQL's default for a user function
    origin: Origin | None = None

    @property
    def key(self) -> FunctionKey:
        return FunctionKey(self.schema, self.name, self.args)


class Bucket(NamedTuple):
    """A row of storage.buckets; values are Python values or nodes.UNKNOWN."""

    id: str
    values: dict[str, Any]
    origin: Origin | None = None


class Named(NamedTuple):
    """Objects tracked only by name: types, schemas, extensions."""

    kind: NamedKind
    key: RelationKey | tuple[str]  # (schema, name) of a type; (name,) of a schema or extension
    origin: Origin | None = None


K = TypeVar("K")
V = TypeVar("V")


class Layer(MutableMapping[K, V]):
    """A dict over a read-only base dict: writes and deletions stay in the layer."""

    _DELETED: Any = object()

    def __init__(self, base: MutableMapping[K, V]) -> None:
        self._base = base
        self._own: dict[K, V] = {}

    def owns(self, key: K) -> bool:
        return key in self._own and self._own[key] is not self._DELETED

    def __getitem__(self, key: K) -> V:
        if key in self._own:
            value = self._own[key]
            if value is self._DELETED:
                raise KeyError(key)
            return value
        return self._base[key]

    def __setitem__(self, key: K, value: V) -> None:
        self._own[key] = value

    def __delitem__(self, key: K) -> None:
        self[key]  # raises KeyError when missing
        self._own[key] = self._DELETED

    def __iter__(self) -> Iterator[K]:
        for key in self._base:
            if key not in self._own:
                yield key
        for key, value in self._own.items():
            if value is not self._DELETED:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def origin_path(self, key: K) -> str | None:
        """The file of a record's origin, asking a lazily loaded base
        (catalog_data.LoadedRecords) without loading the record."""
        if key not in self._own:
            base_origin_path = getattr(self._base, "origin_path", None)
            if base_origin_path is not None:
                return base_origin_path(key)
        origin = getattr(self[key], "origin", None)
        return origin.path if origin is not None else None


def _owns(mapping: MutableMapping, key: object) -> bool:
    return not isinstance(mapping, Layer) or mapping.owns(key)


def _add(links: MutableMapping[K, frozenset], key: K, member: object) -> None:
    links[key] = links.get(key, frozenset()) | {member}


def _discard(links: MutableMapping[K, frozenset], key: K, member: object) -> None:
    members = links.get(key)
    if members is not None and member in members:
        rest = members - {member}
        if rest:
            links[key] = rest
        else:
            del links[key]


class _At(NamedTuple):
    """The statement being replayed and the file it is recorded in."""

    path: str
    statement: Statement

    def origin(self, node_location: int = -1) -> Origin:
        statement = self.statement
        return Origin(self.path, statement.offset(node_location) if node_location >= 0 else statement.start)


class Catalog:
    def __init__(self) -> None:
        self.tables: MutableMapping[RelationKey, Table] = {}
        self.indexes: MutableMapping[RelationKey, Index] = {}
        self.triggers: MutableMapping[PartKey, Trigger] = {}
        self.policies: MutableMapping[PartKey, Policy] = {}
        self.functions: MutableMapping[FunctionKey, Function] = {}
        self.buckets: MutableMapping[str, Bucket] = {}
        self.named: MutableMapping[tuple[NamedKind, RelationKey | tuple[str]], Named] = {}
        # Reverse links, derived from the records by the put_/remove_ primitives only.
        self._indexes_on: MutableMapping[RelationKey, frozenset[RelationKey]] = {}
        self._triggers_on: MutableMapping[RelationKey, frozenset[PartKey]] = {}
        self._policies_on: MutableMapping[RelationKey, frozenset[PartKey]] = {}
        self._referrers: MutableMapping[RelationKey, frozenset[RelationKey]] = {}
        self._callers: MutableMapping[FunctionKey, frozenset[PartKey]] = {}
        self._overloads: MutableMapping[RelationKey, frozenset[FunctionKey]] = {}
        self._dependents: MutableMapping[RelationKey, frozenset[RelationKey]] = {}  # views reading a relation

    _MAPS = ("tables", "indexes", "triggers", "policies", "functions", "buckets", "named", "_indexes_on",
             "_triggers_on", "_policies_on", "_referrers", "_callers", "_overloads", "_dependents")

    # -- forking ---------------------------------------------------------

    def fork(self) -> Catalog:
        """A copy-on-write child: changes to it never reach this catalog."""
        child = Catalog.__new__(Catalog)
        for name in self._MAPS:
            setattr(child, name, Layer(getattr(self, name)))
        return child

    def _table_for_update(self, key: RelationKey) -> Table | None:
        table = self.tables.get(key)
        if table is not None and not _owns(self.tables, key):
            table = table.copy()
            self.tables[key] = table
        return table

    def _external_table(self, key: RelationKey) -> Table:
        """A table altered but never created here: a platform table."""
        table = self._table_for_update(key)
        if table is None:
            table = Table(key[0], key[1], external=True)
            self.tables[key] = table
        return table

    # -- questions rules ask ---------------------------------------------

    def table(self, key: RelationKey) -> Table | None:
        return self.tables.get(key)

    def indexes_on(self, table: RelationKey) -> list[Index]:
        return [self.indexes[key] for key in sorted(self._indexes_on.get(table, ()))]

    def triggers_on(self, table: RelationKey) -> list[Trigger]:
        return [self.triggers[key] for key in sorted(self._triggers_on.get(table, ()))]

    def policies_on(self, table: RelationKey) -> list[Policy]:
        return [self.policies[key] for key in sorted(self._policies_on.get(table, ()))]

    def referrers_of(self, table: RelationKey) -> frozenset[RelationKey]:
        """The tables with a foreign key into `table` (itself, for a self-reference)."""
        return self._referrers.get(table, frozenset())

    def dependents_of(self, relation: RelationKey) -> frozenset[RelationKey]:
        """The views and materialized views whose query reads `relation`."""
        return self._dependents.get(relation, frozenset())

    def add_dependent(self, relation: RelationKey, view: RelationKey) -> None:
        _add(self._dependents, relation, view)

    def triggers_calling(self, function: FunctionKey) -> frozenset[PartKey]:
        return self._callers.get(function, frozenset())

    def overloads(self, name: RelationKey) -> list[Function]:
        """Every function of that schema and name, whatever its arguments."""
        return [self.functions[key] for key in sorted(self._overloads.get(name, ()))]

    def resolve_function(self, name: RelationKey, args: tuple[str, ...] | None) -> FunctionKey | None:
        """The function a name (with argument types, or None when a statement
        gave none) designates, as PostgreSQL resolves it: without argument
        types the name must be unique."""
        if args is not None:
            key = FunctionKey(name[0], name[1], args)
            return key if key in self.functions else None
        candidates = self._overloads.get(name, frozenset())
        return next(iter(candidates)) if len(candidates) == 1 else None

    def exists(self, ref: ObjectRef) -> bool:
        return self.record(ref) is not None

    def origin_of(self, ref: ObjectRef) -> Origin | None:
        found = self.record(ref)
        return found.origin if found is not None else None

    def record(self, ref: ObjectRef) -> Any:
        """The record `ref` names, or None."""
        kind: Any = ref.kind
        key: Any = ref.key  # their types go together (see ObjectKey)
        if kind in RELATION_KINDS:
            return self.tables.get(key)
        if kind == "column":
            table = self.tables.get(key[:2])
            return table.columns.get(key[2]) if table is not None else None
        if kind == "index":
            return self.indexes.get(key)
        if kind == "trigger":
            return self.triggers.get(key)
        if kind == "policy":
            return self.policies.get(key)
        if kind == "function":
            return self.functions.get(key)
        if kind == "bucket":
            return self.buckets.get(key[0])
        return self.named.get((kind, key))

    # -- the only places that change records with reverse links ------------

    def put_index(self, index: Index) -> None:
        self.indexes[index.key] = index
        _add(self._indexes_on, index.table, index.key)
        if index.table not in self.tables:  # (not asking for the table: a snapshot loads it lazily)
            self._external_table(index.table)

    def remove_index(self, key: RelationKey) -> Index | None:
        index = self.indexes.pop(key, None)
        if index is not None:
            _discard(self._indexes_on, index.table, key)
        return index

    def put_trigger(self, trigger: Trigger) -> None:
        self.triggers[trigger.key] = trigger
        _add(self._triggers_on, (trigger.schema, trigger.table), trigger.key)
        _add(self._callers, trigger.function, trigger.key)
        if (trigger.schema, trigger.table) not in self.tables:
            self._external_table((trigger.schema, trigger.table))

    def remove_trigger(self, key: PartKey) -> Trigger | None:
        trigger = self.triggers.pop(key, None)
        if trigger is not None:
            _discard(self._triggers_on, key[:2], key)
            _discard(self._callers, trigger.function, key)
        return trigger

    def put_policy(self, policy: Policy) -> None:
        self.policies[policy.key] = policy
        _add(self._policies_on, (policy.schema, policy.table), policy.key)
        if (policy.schema, policy.table) not in self.tables:
            self._external_table((policy.schema, policy.table))

    def remove_policy(self, key: PartKey) -> Policy | None:
        policy = self.policies.pop(key, None)
        if policy is not None:
            _discard(self._policies_on, key[:2], key)
        return policy

    def put_function(self, function: Function) -> None:
        self.functions[function.key] = function
        _add(self._overloads, (function.schema, function.name), function.key)

    def remove_function(self, key: FunctionKey) -> Function | None:
        function = self.functions.pop(key, None)
        if function is not None:
            _discard(self._overloads, (key.schema, key.name), key)
        return function

    def referenced_tables(self) -> list[RelationKey]:
        """Every table some foreign key points into (from the reverse links: no table is asked for)."""
        return [target for target, referrers in self._referrers.items() if referrers]

    def link_referrer(self, target: RelationKey, referrer: RelationKey) -> None:
        """Loading a snapshot: `referrer` has a foreign key into `target`
        (what set_foreign_keys records, without asking for the table)."""
        _add(self._referrers, target, referrer)

    def load_links(self, links: dict[str, dict[Any, list]]) -> None:
        """Loading a snapshot: the reverse links of its indexes, triggers,
        policies and functions, by the name of their map (`_indexes_on`,
        `_triggers_on`, `_callers`, `_policies_on`, `_overloads`), each built
        once (the records themselves are loaded lazily: catalog_data)."""
        for name, by_key in links.items():
            mapping = getattr(self, name)
            for key, members in by_key.items():
                mapping[key] = mapping.get(key, frozenset()) | frozenset(members)
        for table in {*links.get("_indexes_on", ()), *links.get("_triggers_on", ()), *links.get("_policies_on", ())}:
            if table not in self.tables:
                self._external_table(table)

    def set_foreign_keys(self, table: Table, foreign_keys: tuple[ForeignKey, ...]) -> None:
        """Give `table` (owned by this catalog) these foreign keys; the
        tables it stops or starts referencing learn of it."""
        before = {fk.target for fk in table.foreign_keys}
        table.foreign_keys = foreign_keys
        after = {fk.target for fk in foreign_keys}
        for target in before - after:
            _discard(self._referrers, target, table.key)
        for target in after - before:
            _add(self._referrers, target, table.key)

    # -- replay ----------------------------------------------------------

    def apply(self, statement: Statement, path: str) -> list[ObjectRef]:
        """Replay one statement of the file at `path`; returns the objects it created."""
        handler = _HANDLERS.get(statement.node_type)
        if handler is None:
            return []
        return handler(self, _At(path, statement), statement.node)


# ---------------------------------------------------------------------------
# Statement handlers. Each takes (catalog, at, node) and returns the objects
# created; `at.origin()` is where they were created. Unknown statements change nothing.

Handler = Callable[[Catalog, _At, dict], list[ObjectRef]]


def _create_table(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    key = nodes.relation_key(node["relation"])
    if key in catalog.tables and not catalog.tables[key].external:
        return []  # IF NOT EXISTS, or an error the server would raise
    temporary = node["relation"].get("relpersistence") == "t"
    table = Table(key[0], key[1], temporary=temporary,
                  origin=at.origin(node["relation"].get("location", -1)))
    catalog.tables[key] = table
    for element in node.get("tableElts", ()):
        if "ColumnDef" in element:
            _add_column(catalog, table, element["ColumnDef"], at)
        elif "Constraint" in element:
            _add_table_constraint(catalog, table, element["Constraint"], at)
    return [ObjectRef("table", key)]


def _add_column(catalog: Catalog, table: Table, column_def: dict, at: _At) -> Column:
    name = column_def.get("colname", "")
    not_null = False
    default = None
    for item in column_def.get("constraints", ()):
        constraint = item.get("Constraint", {})
        contype = constraint.get("contype")
        if contype in ("CONSTR_NOTNULL", "CONSTR_PRIMARY"):
            not_null = True
        elif contype == "CONSTR_DEFAULT":
            default = constraint.get("raw_expr")
        elif contype == "CONSTR_IDENTITY" or contype == "CONSTR_GENERATED":
            default = {"Generated": {}}
        elif contype == "CONSTR_FOREIGN":
            _add_foreign_key(catalog, table, [name], constraint)
        elif contype == "CONSTR_CHECK":
            _add_check(catalog, table, constraint, at)
    type_node = column_def.get("typeName")
    # Strings, not the type node: a long history holds tens of thousands of columns.
    column = Column(name, *nodes.type_parts(type_node), not_null, default,
                    at.origin(column_def.get("location", -1)))
    table.columns[name] = column
    return column


def _add_table_constraint(catalog: Catalog, table: Table, constraint: dict, at: _At) -> None:
    contype = constraint.get("contype")
    if contype == "CONSTR_FOREIGN":
        _add_foreign_key(catalog, table, nodes.names(constraint.get("fk_attrs")), constraint)
    elif contype == "CONSTR_CHECK":
        _add_check(catalog, table, constraint, at)
    elif contype == "CONSTR_PRIMARY":
        for name in nodes.names(constraint.get("keys")):
            if name in table.columns:
                table.columns[name] = table.columns[name]._replace(not_null=True)


def _add_foreign_key(catalog: Catalog, table: Table, columns: list[str], constraint: dict) -> None:
    target = nodes.relation_key(constraint.get("pktable", {}))
    # PostgreSQL's generated name: <table>_<columns>_fkey.
    name = constraint.get("conname") or "_".join([table.name, *columns, "fkey"])
    catalog.set_foreign_keys(table, (*table.foreign_keys, ForeignKey(name, tuple(columns), target)))


def _add_check(catalog: Catalog, table: Table, constraint: dict, at: _At) -> None:
    expression = constraint.get("raw_expr")
    columns = frozenset(nodes.column_refs(expression))
    # PostgreSQL's generated name: <table>_<column>_check when the expression
    # reads exactly one column, else <table>_check.
    default_name = f"{table.name}_{next(iter(columns))}_check" if len(columns) == 1 else f"{table.name}_check"
    name = constraint.get("conname") or default_name
    table.checks[name] = Check(
        name=name,
        columns=columns,
        not_null_columns=frozenset(nodes.not_null_tests(expression)),
        validated=not constraint.get("skip_validation", False),
        origin=at.origin(constraint.get("location", -1)),
    )


def _drop_constraint(catalog: Catalog, table: Table, name: str) -> None:
    table.checks.pop(name, None)
    catalog.set_foreign_keys(table, tuple(fk for fk in table.foreign_keys if fk.name != name))


def _drop_column(catalog: Catalog, table: Table, name: str) -> None:
    """DROP COLUMN also drops, even without CASCADE, the indexes and
    constraints of this table that use the column."""
    if table.columns.pop(name, None) is None:
        return
    for index in catalog.indexes_on(table.key):
        if name in index.columns:
            catalog.remove_index(index.key)
    for check_name in [c.name for c in table.checks.values() if name in c.columns]:
        del table.checks[check_name]
    catalog.set_foreign_keys(table, tuple(fk for fk in table.foreign_keys if name not in fk.columns))


def _create_table_as(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    into = node.get("into", {}).get("IntoClause", node.get("into", {}))
    relation = into.get("rel")
    if not relation:
        return []
    key = nodes.relation_key(relation)
    kind: RelationKind = "materialized view" if node.get("objtype") == "OBJECT_MATVIEW" else "table"
    table = Table(key[0], key[1], kind=kind, origin=at.origin())
    catalog.tables[key] = table
    query = node.get("query", {})
    for name in _query_column_names(catalog, query, nodes.names(into.get("colNames"))):
        table.columns[name] = Column(name, "", (), "", origin=at.origin())
    _record_dependencies(catalog, key, query)
    return [ObjectRef(kind, key)]


def _query_column_names(catalog: Catalog, query: dict, explicit: list[str]) -> list[str]:
    """The output columns of a SELECT, as far as they can be named without
    types: `AS` names, plain column references, `*` of one known table; an
    explicit column list (`CREATE TABLE t (a, b) AS ...`) wins."""
    select = query.get("SelectStmt", {})
    names: list[str] = []
    for item in select.get("targetList", ()):
        target = item.get("ResTarget", {})
        value = target.get("val", {})
        if target.get("name"):
            names.append(target["name"])
        elif "ColumnRef" in value:
            fields = value["ColumnRef"].get("fields", [])
            if fields and "A_Star" in fields[-1]:
                names.extend(_star_columns(catalog, select, fields))
            elif fields and "String" in fields[-1]:
                names.append(fields[-1]["String"].get("sval", ""))
        elif "FuncCall" in value:
            names.append(nodes.names(value["FuncCall"].get("funcname"))[-1])
    return explicit + names[len(explicit):] if explicit else names


def _star_columns(catalog: Catalog, select: dict, fields: list[dict]) -> list[str]:
    sources = [item["RangeVar"] for item in select.get("fromClause", ()) if "RangeVar" in item]
    if len(fields) == 1 and len(sources) != 1:
        return []  # `*` over a join: which columns, in which order, is not worth guessing
    if len(fields) > 1:
        qualifier = [field.get("String", {}).get("sval") for field in fields[:-1]][-1]
        sources = [source for source in sources
                   if (source.get("alias", {}).get("aliasname") or source.get("relname")) == qualifier]
    table = catalog.tables.get(nodes.relation_key(sources[0])) if len(sources) == 1 else None
    return list(table.columns) if table is not None else []


def _record_dependencies(catalog: Catalog, view: RelationKey, query: dict) -> None:
    """Mark the relations a view's query reads, so DROP ... CASCADE takes the view too."""
    for node_type, body in nodes.walk(query):
        if node_type != "RangeVar":
            continue
        key = nodes.relation_key(body)
        if key != view and key in catalog.tables:
            catalog.add_dependent(key, view)


def _create_view(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    key = nodes.relation_key(node["view"])
    if key in catalog.tables:
        return []  # CREATE OR REPLACE VIEW keeps the original
    catalog.tables[key] = Table(key[0], key[1], kind="view", origin=at.origin())
    _record_dependencies(catalog, key, node.get("query", {}))
    return [ObjectRef("view", key)]


def _create_sequence(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    key = nodes.relation_key(node["sequence"])
    if key in catalog.tables:
        return []
    catalog.tables[key] = Table(key[0], key[1], kind="sequence", origin=at.origin())
    return [ObjectRef("sequence", key)]


def _alter_table(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    if node.get("objtype", "OBJECT_TABLE") != "OBJECT_TABLE" or "relation" not in node:
        return []
    key = nodes.relation_key(node["relation"])
    if key not in catalog.tables and node.get("missing_ok"):
        return []
    table = catalog._external_table(key)
    created: list[ObjectRef] = []
    for item in node.get("cmds", ()):
        command = item.get("AlterTableCmd", {})
        created.extend(_alter_table_command(catalog, at, table, command))
    return created


def _alter_table_command(catalog: Catalog, at: _At, table: Table, command: dict) -> list[ObjectRef]:
    subtype = command.get("subtype")
    name = command.get("name", "")
    column = table.columns.get(name)
    if subtype == "AT_AddColumn":
        column_def = command.get("def", {}).get("ColumnDef", {})
        if column_def.get("colname") in table.columns:
            return []  # ADD COLUMN IF NOT EXISTS on an existing column
        added = _add_column(catalog, table, column_def, at)
        return [ObjectRef("column", (table.schema, table.name, added.name))]
    if subtype == "AT_DropColumn":
        _drop_column(catalog, table, name)
    elif subtype == "AT_AlterColumnType" and column is not None:
        type_node = command.get("def", {}).get("ColumnDef", {}).get("typeName")
        shown, mods, base = nodes.type_parts(type_node)
        table.columns[name] = column._replace(type_name=shown, type_mods=mods, base_type=base)
    elif subtype in ("AT_SetNotNull", "AT_DropNotNull") and column is not None:
        table.columns[name] = column._replace(not_null=subtype == "AT_SetNotNull")
    elif subtype == "AT_ColumnDefault" and column is not None:
        table.columns[name] = column._replace(default=command.get("def"))
    elif subtype == "AT_EnableRowSecurity":
        table.rls_enabled = True
    elif subtype == "AT_DisableRowSecurity":
        table.rls_enabled = False
    elif subtype in ("AT_ForceRowSecurity", "AT_NoForceRowSecurity"):
        table.rls_forced = subtype == "AT_ForceRowSecurity"
    elif subtype == "AT_AddConstraint":
        _add_table_constraint(catalog, table, command.get("def", {}).get("Constraint", {}), at)
    elif subtype == "AT_DropConstraint":
        _drop_constraint(catalog, table, name)
    elif subtype == "AT_ValidateConstraint" and name in table.checks:
        table.checks[name] = table.checks[name]._replace(validated=True)
    return []


def _create_index(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    table_key = nodes.relation_key(node["relation"])
    name = node.get("idxname")
    if not name:
        return []  # an unnamed index gets a generated name; nothing to track
    key = (table_key[0], name)
    if key in catalog.indexes:
        return []
    catalog.put_index(Index(key[0], name, table_key, unique=bool(node.get("unique")),
                            partial="whereClause" in node, columns=_indexed_columns(node), origin=at.origin()))
    return [ObjectRef("index", key)]


def _indexed_columns(node: dict) -> frozenset[str]:
    """Columns an index reads: its keys, INCLUDE columns, expressions and predicate."""
    columns: set[str] = set()
    for item in [*node.get("indexParams", ()), *node.get("indexIncludingParams", ())]:
        element = item.get("IndexElem", {})
        if element.get("name"):
            columns.add(element["name"])
        else:
            columns.update(nodes.column_refs(element.get("expr")))
    columns.update(nodes.column_refs(node.get("whereClause")))
    return frozenset(columns)


def _create_trigger(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    table_key = nodes.relation_key(node["relation"])
    name = node.get("trigname", "")
    key = (table_key[0], table_key[1], name)
    # A trigger function takes no declared arguments (TG_ARGV carries them).
    schema, function_name = nodes.qualified(nodes.names(node.get("funcname")))
    replaced = catalog.remove_trigger(key) is not None  # CREATE OR REPLACE TRIGGER may call another function
    catalog.put_trigger(Trigger(table_key[0], table_key[1], name, FunctionKey(schema, function_name, ()),
                                origin=at.origin()))
    return [] if replaced else [ObjectRef("trigger", key)]


def _create_policy(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    schema, table = nodes.relation_key(node["table"])
    policy = Policy(schema, table, node.get("policy_name", ""), at.origin())
    if policy.key in catalog.policies:
        return []
    catalog.put_policy(policy)
    return [ObjectRef("policy", policy.key)]


def argument_types(parameters: list[dict] | None) -> tuple[str, ...]:
    """The input argument types of a CREATE FUNCTION's parameters: what
    tells overloads apart (OUT and TABLE columns do not count)."""
    types = []
    for item in parameters or ():
        parameter = item.get("FunctionParameter", {})
        if parameter.get("mode") in ("FUNC_PARAM_OUT", "FUNC_PARAM_TABLE"):
            continue
        types.append(type_identity(parameter.get("argType")))
    return tuple(types)


def type_identity(type_node: dict | None) -> str:
    """A type as function identity sees it: `int` and `integer` are both
    `int4` (the parser resolves the spellings), modifiers do not count."""
    if not type_node:
        return ""
    parts = nodes.names(type_node.get("names"))
    return (parts[-1] if parts else "") + "[]" * len(type_node.get("arrayBounds", ()))


def object_with_args(node: dict) -> tuple[RelationKey, tuple[str, ...] | None]:
    """The name and, when the statement gave them, argument types of an ObjectWithArgs."""
    name = nodes.qualified(nodes.names(node.get("objname")))
    if node.get("args_unspecified"):
        return name, None
    return name, tuple(type_identity(item.get("TypeName")) for item in node.get("objargs", ()))


def _create_function(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    schema, name = nodes.qualified(nodes.names(node.get("funcname")))
    function = _with_options(Function(schema, name, argument_types(node.get("parameters")), origin=at.origin()),
                             node.get("options"))
    existed = function.key in catalog.functions  # CREATE OR REPLACE: its triggers still call it
    catalog.put_function(function)
    return [] if existed else [ObjectRef("function", function.key)]


def _with_options(function: Function, options: list[dict] | None) -> Function:
    changes: dict[str, Any] = {}
    for element in nodes.def_elems(options):
        name = element.get("defname")
        argument = element.get("arg", {})
        if name == "security":
            changes["security_definer"] = bool(argument.get("Boolean", {}).get("boolval", False))
        elif name == "volatility":
            changes["volatility"] = argument.get("String", {}).get("sval", "volatile")[0]
        elif name in ("set", "reset"):
            variable = argument.get("VariableSetStmt", {})
            if variable.get("name") == "search_path" or variable.get("kind") == "VAR_RESET_ALL":
                # SET search_path = ... or FROM CURRENT pins it; RESET / DEFAULT unpins it.
                changes["search_path_fixed"] = variable.get("kind") in ("VAR_SET_VALUE", "VAR_SET_CURRENT")
    return function._replace(**changes) if changes else function


def _alter_function(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    key = catalog.resolve_function(*object_with_args(node.get("func", {})))
    if key is not None:
        catalog.put_function(_with_options(catalog.functions[key], node.get("actions")))
    return []


def _create_named(kind: NamedKind, key_of: Callable[[dict], RelationKey | tuple[str]]) -> Handler:
    def handler(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
        key = key_of(node)
        if (kind, key) in catalog.named:
            return []
        catalog.named[(kind, key)] = Named(kind, key, at.origin())
        return [ObjectRef(kind, key)]

    return handler


def _define_stmt(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    if node.get("kind") != "OBJECT_TYPE":
        return []
    return _create_named("type", lambda n: nodes.qualified(nodes.names(n.get("defnames"))))(catalog, at, node)


# -- DROP -------------------------------------------------------------------


def _drop(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    remove_type = node.get("removeType", "")
    cascade = node.get("behavior") == "DROP_CASCADE"
    for item in node.get("objects", ()):
        _drop_one(catalog, remove_type, item, cascade)
    return []


def _drop_object_names(item: dict) -> list[str]:
    if "List" in item:
        return nodes.names(item["List"].get("items"))
    if "TypeName" in item:
        return nodes.names(item["TypeName"].get("names"))
    if "String" in item:
        return [item["String"].get("sval", "")]
    return []


def _drop_one(catalog: Catalog, remove_type: str, item: dict, cascade: bool) -> None:
    if remove_type in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE"):
        if "ObjectWithArgs" in item:
            key = catalog.resolve_function(*object_with_args(item["ObjectWithArgs"]))
            if key is not None:
                drop_function(catalog, key, cascade)
        return
    parts = _drop_object_names(item)
    if not parts:
        return
    if remove_type in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE"):
        drop_relation(catalog, nodes.qualified(parts), cascade)
    elif remove_type == "OBJECT_INDEX":
        catalog.remove_index(nodes.qualified(parts))
    elif remove_type in ("OBJECT_TRIGGER", "OBJECT_POLICY"):
        schema, table = nodes.qualified(parts[:-1])
        if remove_type == "OBJECT_TRIGGER":
            catalog.remove_trigger((schema, table, parts[-1]))
        else:
            catalog.remove_policy((schema, table, parts[-1]))
    elif remove_type in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
        catalog.named.pop(("type", nodes.qualified(parts)), None)
    elif remove_type == "OBJECT_SCHEMA":
        drop_schema(catalog, parts[-1], cascade)
    elif remove_type == "OBJECT_EXTENSION":
        catalog.named.pop(("extension", (parts[-1],)), None)


def drop_relation(catalog: Catalog, key: RelationKey, cascade: bool = False) -> None:
    table = catalog.tables.get(key)
    if table is None:
        return
    if cascade:  # the views and materialized views that read it go too, with their indexes
        for dependent in sorted(catalog.dependents_of(key)):
            drop_relation(catalog, dependent, cascade=True)
    catalog._dependents.pop(key, None)
    for index in catalog.indexes_on(key):
        catalog.remove_index(index.key)
    for trigger in catalog.triggers_on(key):
        catalog.remove_trigger(trigger.key)
    for policy in catalog.policies_on(key):
        catalog.remove_policy(policy.key)
    # Foreign keys into the dropped table go with it (CASCADE drops them;
    # without CASCADE the DROP fails unless they are already gone).
    for referrer_key in catalog.referrers_of(key) - {key}:
        referrer = catalog._table_for_update(referrer_key)
        if referrer is not None:
            catalog.set_foreign_keys(referrer, tuple(fk for fk in referrer.foreign_keys if fk.target != key))
    owned = catalog._table_for_update(key)
    if owned is not None:
        catalog.set_foreign_keys(owned, ())
    del catalog.tables[key]


def drop_function(catalog: Catalog, key: FunctionKey, cascade: bool) -> None:
    if cascade:
        for trigger_key in catalog.triggers_calling(key):
            catalog.remove_trigger(trigger_key)
    catalog.remove_function(key)


def drop_schema(catalog: Catalog, schema: str, cascade: bool) -> None:
    catalog.named.pop(("schema", (schema,)), None)
    if not cascade:
        return
    for key in [key for key in catalog.tables if key[0] == schema]:
        drop_relation(catalog, key, cascade=True)
    for function_key in [key for key in catalog.functions if key.schema == schema]:
        drop_function(catalog, function_key, cascade=True)
    for policy_key in [key for key in catalog.policies if key[0] == schema]:
        catalog.remove_policy(policy_key)
    for named_key in [k for k in catalog.named if len(k[1]) > 1 and k[1][0] == schema]:
        del catalog.named[named_key]


def _rename(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    rename_type = node.get("renameType")
    new_name = node.get("newname", "")
    if rename_type == "OBJECT_FUNCTION" or rename_type == "OBJECT_PROCEDURE":
        old = catalog.resolve_function(*object_with_args(node.get("object", {}).get("ObjectWithArgs", {})))
        if old is not None:
            rename_function(catalog, old, new_name)
        return []
    relation = node.get("relation")
    if relation is None:
        return []
    key = nodes.relation_key(relation)
    subname = node.get("subname", "")
    if rename_type in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE"):
        rename_relation(catalog, key, new_name)
    elif rename_type == "OBJECT_COLUMN":
        rename_column(catalog, key, subname, new_name)
    elif rename_type == "OBJECT_INDEX":
        index = catalog.remove_index(key)
        if index is not None:
            catalog.put_index(index._replace(name=new_name))
    elif rename_type == "OBJECT_TRIGGER":
        trigger = catalog.remove_trigger((*key, subname))
        if trigger is not None:
            catalog.put_trigger(trigger._replace(name=new_name))
    elif rename_type == "OBJECT_POLICY":
        policy = catalog.remove_policy((*key, subname))
        if policy is not None:
            catalog.put_policy(policy._replace(name=new_name))
    return []


def rename_relation(catalog: Catalog, key: RelationKey, new_name: str) -> None:
    """Rename a table and re-key what hangs off it: indexes, triggers,
    policies and the foreign keys on either side."""
    table = catalog._table_for_update(key)
    if table is None:
        return
    new_key = (key[0], new_name)
    indexes = [catalog.remove_index(index.key) for index in catalog.indexes_on(key)]
    triggers = [catalog.remove_trigger(trigger.key) for trigger in catalog.triggers_on(key)]
    policies = [catalog.remove_policy(policy.key) for policy in catalog.policies_on(key)]
    referrers = catalog.referrers_of(key) - {key}
    dependents = catalog._dependents.pop(key, None)
    if dependents:
        catalog._dependents[new_key] = dependents
    own_keys = table.foreign_keys
    catalog.set_foreign_keys(table, ())
    del catalog.tables[key]
    table.name = new_name
    catalog.tables[new_key] = table
    catalog.set_foreign_keys(table, _retargeted(own_keys, key, new_key))
    for index in indexes:
        if index is not None:
            catalog.put_index(index._replace(table=new_key))
    for trigger in triggers:
        if trigger is not None:
            catalog.put_trigger(trigger._replace(table=new_name))
    for policy in policies:
        if policy is not None:
            catalog.put_policy(policy._replace(table=new_name))
    for referrer_key in referrers:
        referrer = catalog._table_for_update(referrer_key)
        if referrer is not None:
            catalog.set_foreign_keys(referrer, _retargeted(referrer.foreign_keys, key, new_key))


def _retargeted(foreign_keys: tuple[ForeignKey, ...], old: RelationKey, new: RelationKey) -> tuple[ForeignKey, ...]:
    return tuple(fk._replace(target=new) if fk.target == old else fk for fk in foreign_keys)


def rename_column(catalog: Catalog, key: RelationKey, old: str, new: str) -> None:
    table = catalog._table_for_update(key)
    if table is None or old not in table.columns:
        return
    table.columns[new] = table.columns.pop(old)._replace(name=new)

    def renamed_set(columns: frozenset[str]) -> frozenset[str]:
        return frozenset(new if column == old else column for column in columns)

    for index in catalog.indexes_on(key):
        if old in index.columns:
            catalog.put_index(index._replace(columns=renamed_set(index.columns)))
    table.checks = {name: check._replace(columns=renamed_set(check.columns),
                                         not_null_columns=renamed_set(check.not_null_columns))
                    for name, check in table.checks.items()}
    catalog.set_foreign_keys(table, tuple(
        fk._replace(columns=tuple(new if column == old else column for column in fk.columns))
        for fk in table.foreign_keys))


def rename_function(catalog: Catalog, old: FunctionKey, new_name: str) -> None:
    function = catalog.functions[old]
    renamed = function._replace(name=new_name)
    if renamed.key in catalog.functions:
        return  # PostgreSQL refuses: that function already exists
    callers = catalog.triggers_calling(old)
    catalog.remove_function(old)
    catalog.put_function(renamed)
    for trigger_key in callers:
        trigger = catalog.remove_trigger(trigger_key)
        if trigger is not None:
            catalog.put_trigger(trigger._replace(function=renamed.key))


# -- storage.buckets rows ------------------------------------------------------


def _insert(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    if nodes.relation_key(node["relation"]) != BUCKETS_TABLE:
        return []
    columns = [target.get("ResTarget", {}).get("name", "") for target in node.get("cols", ())]
    select = node.get("selectStmt", {}).get("SelectStmt", {})
    conflict = node.get("onConflictClause", {}).get("action")
    created = []
    for row in select.get("valuesLists", ()):
        values = [nodes.const_value(item) for item in row.get("List", {}).get("items", ())]
        record = {column: _bucket_value(column, value) for column, value in zip(columns, values)}
        bucket_id = record.get("id")
        if not isinstance(bucket_id, str):
            continue
        if bucket_id in catalog.buckets and conflict == "ONCONFLICT_NOTHING":
            continue
        existed = bucket_id in catalog.buckets
        catalog.buckets[bucket_id] = Bucket(bucket_id, record, at.origin())
        if not existed:
            created.append(ObjectRef("bucket", (bucket_id,)))
    return created


def _update(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    if nodes.relation_key(node["relation"]) != BUCKETS_TABLE:
        return []
    changes = {}
    for item in node.get("targetList", ()):
        target = item.get("ResTarget", {})
        name = target.get("name", "")
        changes[name] = _bucket_value(name, nodes.const_value(target.get("val")))
    for bucket_id in _bucket_ids(catalog, node.get("whereClause")):
        bucket = catalog.buckets[bucket_id]
        catalog.buckets[bucket_id] = Bucket(bucket_id, {**bucket.values, **changes}, bucket.origin)
    return []


def _delete(catalog: Catalog, at: _At, node: dict) -> list[ObjectRef]:
    if nodes.relation_key(node["relation"]) != BUCKETS_TABLE:
        return []
    for bucket_id in _bucket_ids(catalog, node.get("whereClause")):
        del catalog.buckets[bucket_id]
    return []


def _bucket_value(column: str, value: Any) -> Any:
    """An untyped literal read as the storage.buckets column's type:
    `'{image/png}'` is a text[], `'52428800'` a bigint, `'true'` a boolean."""
    if not isinstance(value, str):
        return value
    if column == "allowed_mime_types":
        return nodes.parse_array_literal(value)
    if column == "file_size_limit" and value.strip().isdigit():
        return int(value)
    if column == "public":
        return {"true": True, "t": True, "false": False, "f": False}.get(value.strip().lower(), UNKNOWN)
    return value


def _bucket_ids(catalog: Catalog, where: dict | None) -> list[str]:
    """The known buckets a WHERE clause selects: `id = 'x'`, `id IN (...)`,
    `id = ANY (ARRAY[...])`, the same on `name`, ORs of those, or every
    bucket when there is no WHERE. Anything else selects none."""
    if where is None:
        return list(catalog.buckets)
    chosen: list[str] = []
    for bucket_id in _selected_buckets(catalog, where):
        if bucket_id not in chosen:
            chosen.append(bucket_id)
    return chosen


def _selected_buckets(catalog: Catalog, where: dict) -> list[str]:
    boolean = where.get("BoolExpr")
    if boolean is not None:
        if boolean.get("boolop") != "OR_EXPR":
            return []
        return [bucket_id for arg in boolean.get("args", ()) for bucket_id in _selected_buckets(catalog, arg)]
    expression = where.get("A_Expr")
    if expression is None or nodes.names(expression.get("name")) != ["="]:
        return []
    column = nodes.names(expression.get("lexpr", {}).get("ColumnRef", {}).get("fields"))[-1:]
    if column not in (["id"], ["name"]):
        return []
    right = expression.get("rexpr", {})
    kind = expression.get("kind")
    if kind == "AEXPR_IN":
        wanted = [nodes.const_value(item) for item in right.get("List", {}).get("items", ())]
    elif kind == "AEXPR_OP_ANY":
        values = nodes.const_value(right)
        wanted = values if isinstance(values, list) else []
    elif kind == "AEXPR_OP":
        wanted = [nodes.const_value(right)]
    else:
        return []
    if column == ["id"]:
        return [value for value in wanted if isinstance(value, str) and value in catalog.buckets]
    return [bucket_id for bucket_id, bucket in catalog.buckets.items() if bucket.values.get("name") in wanted]


_HANDLERS: dict[str, Handler] = {
    "CreateStmt": _create_table,
    "CreateTableAsStmt": _create_table_as,
    "ViewStmt": _create_view,
    "CreateSeqStmt": _create_sequence,
    "AlterTableStmt": _alter_table,
    "IndexStmt": _create_index,
    "CreateTrigStmt": _create_trigger,
    "CreateFunctionStmt": _create_function,
    "AlterFunctionStmt": _alter_function,
    "CreatePolicyStmt": _create_policy,
    "CreateEnumStmt": _create_named("type", lambda n: nodes.qualified(nodes.names(n.get("typeName")))),
    "CompositeTypeStmt": _create_named("type", lambda n: nodes.relation_key(n.get("typevar", {}))),
    "CreateDomainStmt": _create_named("type", lambda n: nodes.qualified(nodes.names(n.get("domainname")))),
    "DefineStmt": _define_stmt,
    "CreateSchemaStmt": _create_named("schema", lambda n: (n.get("schemaname", ""),)),
    "CreateExtensionStmt": _create_named("extension", lambda n: (n.get("extname", ""),)),
    "DropStmt": _drop,
    "RenameStmt": _rename,
    "InsertStmt": _insert,
    "UpdateStmt": _update,
    "DeleteStmt": _delete,
}

# UNKNOWN is re-exported for rules that inspect bucket values.
__all__ = ["Catalog", "ObjectRef", "Origin", "Table", "Column", "Index", "Trigger", "Policy", "Function",
           "FunctionKey", "Bucket", "Kind", "UNKNOWN"]
