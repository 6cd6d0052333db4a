"""The catalog: what the migrations have created so far, replayed statement by
statement.

The engine replays every forward migration in order; rules read the catalog as
it stood before their statement. To check a rollback, the engine forks the
catalog (a cheap copy-on-write layer), replays the rollback on the fork, and
asks which of the forward migration's objects still exist.

`apply(statement)` returns the objects a statement created, as `ObjectRef`s.
Implicit removal lives here, in one place: DROP TABLE takes its indexes,
triggers, policies and columns; DROP FUNCTION ... CASCADE takes the triggers
that call it; DROP SCHEMA ... CASCADE takes everything in the schema.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, MutableMapping, NamedTuple

from mobius_sqlcheck import nodes
from mobius_sqlcheck.nodes import UNKNOWN
from mobius_sqlcheck.parse import Statement

BUCKETS_TABLE = ("storage", "buckets")

# Records are NamedTuples (immutable: a change makes a new one with
# `_replace`) or plain classes with a `copy()`, not dataclasses: the catalog is
# on the pre-commit hook's start-up path. Nothing reachable from a catalog is
# ever changed in place unless that catalog owns it (see `fork`).


class Origin(NamedTuple):
    """Where an object was created: a file and a byte offset in it."""

    path: str
    offset: int


class ObjectRef(NamedTuple):
    """A catalog object: `kind` and its key, e.g. ("index", ("public", "idx_brands_org"))."""

    kind: str
    key: tuple[str, ...]

    def describe(self) -> str:
        if self.kind == "column":
            return f"column {nodes.display(self.key)}"
        if self.kind in ("trigger", "policy"):
            schema, table, name = self.key
            return f"{self.kind} {name} on {schema}.{table}"
        if self.kind == "bucket":
            return f"storage bucket '{self.key[0]}'"
        return f"{self.kind} {nodes.display(self.key)}"


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
    target: tuple[str, str]


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
    """A relation: kind "table", "view", "materialized view" or "sequence".
    `external` marks a table only ever altered here (a platform table such as
    auth.users), never created."""

    __slots__ = ("schema", "name", "kind", "columns", "rls_enabled", "rls_forced", "foreign_keys", "checks",
                 "referenced_by", "indexes", "triggers", "policies", "temporary", "external", "origin", "dependents")

    def __init__(self, schema: str, name: str, kind: str = "table", temporary: bool = False,
                 external: bool = False, origin: Origin | None = None) -> None:
        self.schema = schema
        self.name = name
        self.kind = kind
        self.columns: dict[str, Column] = {}
        self.rls_enabled = False
        self.rls_forced = False  # FORCE ROW LEVEL SECURITY: binds the owner too; does not enable RLS
        self.foreign_keys: list[ForeignKey] = []
        self.checks: dict[str, Check] = {}
        self.referenced_by: set[tuple[str, str]] = set()  # tables with a foreign key into this one
        self.indexes: set[str] = set()
        self.triggers: set[str] = set()
        self.policies: set[str] = set()
        self.temporary = temporary
        self.external = external
        self.origin = origin
        self.dependents: set[tuple[str, str]] = set()  # views and materialized views that read this relation

    def __repr__(self) -> str:
        return f"Table({self.schema}.{self.name}, {self.kind})"

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)

    def copy(self) -> Table:
        clone = Table(self.schema, self.name, self.kind, self.temporary, self.external, self.origin)
        clone.columns = dict(self.columns)
        clone.rls_enabled = self.rls_enabled
        clone.rls_forced = self.rls_forced
        clone.foreign_keys = list(self.foreign_keys)
        clone.checks = dict(self.checks)
        clone.referenced_by = set(self.referenced_by)
        clone.indexes = set(self.indexes)
        clone.triggers = set(self.triggers)
        clone.policies = set(self.policies)
        clone.dependents = set(self.dependents)
        return clone


class Index(NamedTuple):
    schema: str
    name: str
    table: tuple[str, str]
    unique: bool = False
    partial: bool = False
    columns: frozenset[str] = frozenset()  # read by its keys, expressions or predicate
    origin: Origin | None = None


class Trigger(NamedTuple):
    schema: str
    table: str
    name: str
    function: tuple[str, str]
    origin: Origin | None = None


class Function:
    __slots__ = ("schema", "name", "security_definer", "search_path_fixed", "volatility", "triggers", "origin")

    def __init__(self, schema: str, name: str, origin: Origin | None = None) -> None:
        self.schema = schema
        self.name = name
        self.security_definer = False
        self.search_path_fixed = False
        self.volatility = "v"  # PostgreSQL's default for a user function
        self.triggers: set[tuple[str, str, str]] = set()
        self.origin = origin

    def __repr__(self) -> str:
        return f"Function({self.schema}.{self.name})"

    def copy(self) -> Function:
        clone = Function(self.schema, self.name, self.origin)
        clone.security_definer = self.security_definer
        clone.search_path_fixed = self.search_path_fixed
        clone.volatility = self.volatility
        clone.triggers = set(self.triggers)
        return clone


class Bucket(NamedTuple):
    """A row of storage.buckets; values are Python values or nodes.UNKNOWN."""

    id: str
    values: dict[str, Any]
    origin: Origin | None = None


class Named(NamedTuple):
    """Objects tracked only by name: types, policies, schemas, extensions."""

    kind: str
    key: tuple[str, ...]
    origin: Origin | None = None


class Layer(MutableMapping):
    """A dict over a read-only base dict: writes and deletions stay in the layer."""

    _DELETED = object()

    def __init__(self, base: MutableMapping) -> None:
        self._base = base
        self._own: dict = {}

    def owns(self, key: object) -> bool:
        return key in self._own and self._own[key] is not self._DELETED

    def __getitem__(self, key: object) -> Any:
        if key in self._own:
            value = self._own[key]
            if value is self._DELETED:
                raise KeyError(key)
            return value
        return self._base[key]

    def __setitem__(self, key: object, value: Any) -> None:
        self._own[key] = value

    def __delitem__(self, key: object) -> None:
        self[key]  # raises KeyError when missing
        self._own[key] = self._DELETED

    def __iter__(self) -> Iterator:
        for key in self._base:
            if key not in self._own:
                yield key
        for key, value in self._own.items():
            if value is not self._DELETED:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _owns(mapping: MutableMapping, key: object) -> bool:
    return not isinstance(mapping, Layer) or mapping.owns(key)


class Catalog:
    def __init__(self) -> None:
        self.tables: MutableMapping[tuple[str, str], Table] = {}
        self.indexes: MutableMapping[tuple[str, str], Index] = {}
        self.triggers: MutableMapping[tuple[str, str, str], Trigger] = {}
        self.functions: MutableMapping[tuple[str, str], Function] = {}
        self.buckets: MutableMapping[str, Bucket] = {}
        self.named: MutableMapping[tuple[str, tuple[str, ...]], Named] = {}
        self.current_path = ""

    # -- forking ---------------------------------------------------------

    def fork(self) -> Catalog:
        """A copy-on-write child: changes to it never reach this catalog."""
        child = Catalog.__new__(Catalog)
        child.tables = Layer(self.tables)
        child.indexes = Layer(self.indexes)
        child.triggers = Layer(self.triggers)
        child.functions = Layer(self.functions)
        child.buckets = Layer(self.buckets)
        child.named = Layer(self.named)
        child.current_path = self.current_path
        return child

    def _table_for_update(self, key: tuple[str, str]) -> Table | None:
        table = self.tables.get(key)
        if table is not None and not _owns(self.tables, key):
            table = table.copy()
            self.tables[key] = table
        return table

    def _function_for_update(self, key: tuple[str, str]) -> Function | None:
        function = self.functions.get(key)
        if function is not None and not _owns(self.functions, key):
            function = function.copy()
            self.functions[key] = function
        return function

    def _external_table(self, key: tuple[str, str]) -> Table:
        """A table altered but never created here: a platform table."""
        table = self._table_for_update(key)
        if table is None:
            table = Table(key[0], key[1], external=True)
            self.tables[key] = table
        return table

    # -- questions rules ask ---------------------------------------------

    def table(self, key: tuple[str, str]) -> Table | None:
        return self.tables.get(key)

    def exists(self, ref: ObjectRef) -> bool:
        kind, key = ref.kind, ref.key
        if kind in ("table", "view", "materialized view", "sequence"):
            return key in self.tables
        if kind == "column":
            table = self.tables.get(key[:2])
            return table is not None and key[2] in table.columns
        if kind == "index":
            return key in self.indexes
        if kind == "trigger":
            return key in self.triggers
        if kind == "function":
            return key in self.functions
        if kind == "bucket":
            return key[0] in self.buckets
        return (kind, key) in self.named

    def origin_of(self, ref: ObjectRef) -> Origin | None:
        kind, key = ref.kind, ref.key
        if kind == "column":
            table = self.tables.get(key[:2])
            column = table.columns.get(key[2]) if table else None
            return column.origin if column else None
        holder = {
            "index": self.indexes,
            "trigger": self.triggers,
            "function": self.functions,
        }.get(kind)
        if holder is not None:
            found = holder.get(key)
        elif kind == "bucket":
            found = self.buckets.get(key[0])
        elif kind in ("table", "view", "materialized view", "sequence"):
            found = self.tables.get(key)
        else:
            found = self.named.get((kind, key))
        return found.origin if found else None

    # -- replay ----------------------------------------------------------

    def apply(self, statement: Statement) -> list[ObjectRef]:
        """Replay one statement; returns the objects it created."""
        handler = _HANDLERS.get(statement.node_type)
        if handler is None:
            return []
        return handler(self, statement, statement.node)

    def origin(self, statement: Statement, node_location: int = -1) -> Origin:
        return Origin(self.current_path, statement.offset(node_location) if node_location >= 0 else statement.start)


# ---------------------------------------------------------------------------
# Statement handlers. Each takes (catalog, statement, node) and returns the
# objects created. Unknown statements change nothing.

Handler = Callable[[Catalog, Statement, dict], list[ObjectRef]]


def _create_table(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    key = nodes.relation_key(node["relation"])
    if key in catalog.tables and not catalog.tables[key].external:
        return []  # IF NOT EXISTS, or an error the server would raise
    temporary = node["relation"].get("relpersistence") == "t"
    table = Table(key[0], key[1], temporary=temporary,
                  origin=catalog.origin(statement, node["relation"].get("location", -1)))
    catalog.tables[key] = table
    for element in node.get("tableElts", ()):
        if "ColumnDef" in element:
            _add_column(catalog, table, element["ColumnDef"], statement)
        elif "Constraint" in element:
            _add_table_constraint(catalog, table, element["Constraint"], statement)
    return [ObjectRef("table", key)]


def _add_column(catalog: Catalog, table: Table, column_def: dict, statement: Statement) -> Column:
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
            _add_check(catalog, table, constraint, statement)
    type_node = column_def.get("typeName")
    # Strings, not the type node: a long history holds tens of thousands of columns.
    column = Column(name, *nodes.type_parts(type_node), not_null, default,
                    catalog.origin(statement, column_def.get("location", -1)))
    table.columns[name] = column
    return column


def _add_table_constraint(catalog: Catalog, table: Table, constraint: dict, statement: Statement) -> None:
    contype = constraint.get("contype")
    if contype == "CONSTR_FOREIGN":
        _add_foreign_key(catalog, table, nodes.names(constraint.get("fk_attrs")), constraint)
    elif contype == "CONSTR_CHECK":
        _add_check(catalog, table, constraint, statement)
    elif contype == "CONSTR_PRIMARY":
        for name in nodes.names(constraint.get("keys")):
            if name in table.columns:
                table.columns[name] = table.columns[name]._replace(not_null=True)


def _add_foreign_key(catalog: Catalog, table: Table, columns: list[str], constraint: dict) -> None:
    target = nodes.relation_key(constraint.get("pktable", {}))
    # PostgreSQL's generated name: <table>_<columns>_fkey.
    name = constraint.get("conname") or "_".join([table.name, *columns, "fkey"])
    table.foreign_keys.append(ForeignKey(name, tuple(columns), target))
    referenced = catalog._table_for_update(target)
    if referenced is not None:
        referenced.referenced_by.add(table.key)


def _add_check(catalog: Catalog, table: Table, constraint: dict, statement: Statement) -> None:
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
        origin=catalog.origin(statement, constraint.get("location", -1)),
    )


def _drop_constraint(catalog: Catalog, table: Table, name: str) -> None:
    table.checks.pop(name, None)
    dropped = [fk for fk in table.foreign_keys if fk.name == name]
    if dropped:
        table.foreign_keys = [fk for fk in table.foreign_keys if fk.name != name]
        _forget_references(catalog, table, {fk.target for fk in dropped})


def _forget_references(catalog: Catalog, table: Table, targets: set[tuple[str, str]]) -> None:
    """After `table` lost foreign keys: targets it no longer references at all
    stop listing it in `referenced_by`."""
    still = {fk.target for fk in table.foreign_keys}
    for target in targets - still:
        referenced = catalog._table_for_update(target)
        if referenced is not None:
            referenced.referenced_by.discard(table.key)


def _drop_column(catalog: Catalog, table: Table, name: str) -> None:
    """DROP COLUMN also drops, even without CASCADE, the indexes and
    constraints of this table that use the column."""
    if table.columns.pop(name, None) is None:
        return
    for index_name in [n for n in table.indexes if name in _index_columns(catalog, table.schema, n)]:
        drop_index(catalog, (table.schema, index_name))
    for check_name in [c.name for c in table.checks.values() if name in c.columns]:
        del table.checks[check_name]
    dropped = [fk for fk in table.foreign_keys if name in fk.columns]
    if dropped:
        table.foreign_keys = [fk for fk in table.foreign_keys if name not in fk.columns]
        _forget_references(catalog, table, {fk.target for fk in dropped})


def _index_columns(catalog: Catalog, schema: str, index_name: str) -> frozenset[str]:
    index = catalog.indexes.get((schema, index_name))
    return index.columns if index is not None else frozenset()


def _create_table_as(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    into = node.get("into", {}).get("IntoClause", node.get("into", {}))
    relation = into.get("rel")
    if not relation:
        return []
    key = nodes.relation_key(relation)
    kind = "materialized view" if node.get("objtype") == "OBJECT_MATVIEW" else "table"
    table = Table(key[0], key[1], kind=kind, origin=catalog.origin(statement))
    catalog.tables[key] = table
    query = node.get("query", {})
    for name in _query_column_names(catalog, query, nodes.names(into.get("colNames"))):
        table.columns[name] = Column(name, "", (), "", origin=catalog.origin(statement))
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


def _record_dependencies(catalog: Catalog, view: tuple[str, str], query: dict) -> None:
    """Mark the relations a view's query reads, so DROP ... CASCADE takes the view too."""
    for node_type, body in nodes.walk(query):
        if node_type != "RangeVar":
            continue
        key = nodes.relation_key(body)
        if key != view and key in catalog.tables:
            source = catalog._table_for_update(key)
            if source is not None:
                source.dependents.add(view)


def _create_view(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    key = nodes.relation_key(node["view"])
    if key in catalog.tables:
        return []  # CREATE OR REPLACE VIEW keeps the original
    catalog.tables[key] = Table(key[0], key[1], kind="view", origin=catalog.origin(statement))
    _record_dependencies(catalog, key, node.get("query", {}))
    return [ObjectRef("view", key)]


def _create_sequence(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    key = nodes.relation_key(node["sequence"])
    if key in catalog.tables:
        return []
    catalog.tables[key] = Table(key[0], key[1], kind="sequence", origin=catalog.origin(statement))
    return [ObjectRef("sequence", key)]


def _alter_table(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    if node.get("objtype", "OBJECT_TABLE") != "OBJECT_TABLE" or "relation" not in node:
        return []
    key = nodes.relation_key(node["relation"])
    if key not in catalog.tables and node.get("missing_ok"):
        return []
    table = catalog._external_table(key)
    created: list[ObjectRef] = []
    for item in node.get("cmds", ()):
        command = item.get("AlterTableCmd", {})
        created.extend(_alter_table_command(catalog, statement, table, command))
    return created


def _alter_table_command(catalog: Catalog, statement: Statement, table: Table, command: dict) -> list[ObjectRef]:
    subtype = command.get("subtype")
    name = command.get("name", "")
    column = table.columns.get(name)
    if subtype == "AT_AddColumn":
        column_def = command.get("def", {}).get("ColumnDef", {})
        if column_def.get("colname") in table.columns:
            return []  # ADD COLUMN IF NOT EXISTS on an existing column
        added = _add_column(catalog, table, column_def, statement)
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
        _add_table_constraint(catalog, table, command.get("def", {}).get("Constraint", {}), statement)
    elif subtype == "AT_DropConstraint":
        _drop_constraint(catalog, table, name)
    elif subtype == "AT_ValidateConstraint" and name in table.checks:
        table.checks[name] = table.checks[name]._replace(validated=True)
    return []


def _create_index(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    table_key = nodes.relation_key(node["relation"])
    name = node.get("idxname")
    if not name:
        return []  # an unnamed index gets a generated name; nothing to track
    key = (table_key[0], name)
    if key in catalog.indexes:
        return []
    catalog.indexes[key] = Index(key[0], name, table_key, unique=bool(node.get("unique")),
                                 partial="whereClause" in node, columns=_indexed_columns(node),
                                 origin=catalog.origin(statement))
    table = catalog._external_table(table_key)
    table.indexes.add(name)
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


def _create_trigger(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    table_key = nodes.relation_key(node["relation"])
    name = node.get("trigname", "")
    key = (table_key[0], table_key[1], name)
    function_key = nodes.qualified(nodes.names(node.get("funcname")))
    replaced = key in catalog.triggers
    if replaced:  # CREATE OR REPLACE TRIGGER may call another function
        drop_trigger(catalog, key)
    _add_trigger(catalog, Trigger(table_key[0], table_key[1], name, function_key, origin=catalog.origin(statement)))
    return [] if replaced else [ObjectRef("trigger", key)]


def _add_trigger(catalog: Catalog, trigger: Trigger) -> None:
    key = (trigger.schema, trigger.table, trigger.name)
    catalog.triggers[key] = trigger
    catalog._external_table((trigger.schema, trigger.table)).triggers.add(trigger.name)
    function = catalog._function_for_update(trigger.function)
    if function is not None:
        function.triggers.add(key)


def _add_policy(catalog: Catalog, policy: Named) -> None:
    catalog.named[("policy", policy.key)] = policy
    catalog._external_table(policy.key[:2]).policies.add(policy.key[2])  # type: ignore[arg-type]


def _create_function(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    key = nodes.qualified(nodes.names(node.get("funcname")))
    existed = key in catalog.functions
    function = Function(key[0], key[1], origin=catalog.origin(statement))
    if existed:
        function.triggers = set(catalog.functions[key].triggers)
    _apply_function_options(function, node.get("options"))
    catalog.functions[key] = function
    return [] if existed else [ObjectRef("function", key)]


def _apply_function_options(function: Function, options: list[dict] | None) -> None:
    for element in nodes.def_elems(options):
        name = element.get("defname")
        argument = element.get("arg", {})
        if name == "security":
            function.security_definer = bool(argument.get("Boolean", {}).get("boolval", False))
        elif name == "volatility":
            function.volatility = argument.get("String", {}).get("sval", "volatile")[0]
        elif name in ("set", "reset"):
            variable = argument.get("VariableSetStmt", {})
            if variable.get("name") == "search_path" or variable.get("kind") == "VAR_RESET_ALL":
                # SET search_path = ... or FROM CURRENT pins it; RESET / DEFAULT unpins it.
                function.search_path_fixed = variable.get("kind") in ("VAR_SET_VALUE", "VAR_SET_CURRENT")


def _alter_function(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    key = nodes.qualified(nodes.names(node.get("func", {}).get("objname")))
    function = catalog._function_for_update(key)
    if function is not None:
        _apply_function_options(function, node.get("actions"))
    return []


def _create_named(kind: str, key_of: Callable[[dict], tuple[str, ...]]) -> Handler:
    def handler(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
        key = key_of(node)
        if (kind, key) in catalog.named:
            return []
        named = Named(kind, key, catalog.origin(statement))
        if kind == "policy":
            _add_policy(catalog, named)
        else:
            catalog.named[(kind, key)] = named
        return [ObjectRef(kind, key)]

    return handler


def _policy_key(node: dict) -> tuple[str, str, str]:
    schema, table = nodes.relation_key(node["table"])
    return (schema, table, node.get("policy_name", ""))


def _define_stmt(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    if node.get("kind") != "OBJECT_TYPE":
        return []
    return _create_named("type", lambda n: nodes.qualified(nodes.names(n.get("defnames"))))(catalog, statement, node)


# -- DROP -------------------------------------------------------------------


def _drop(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    remove_type = node.get("removeType", "")
    cascade = node.get("behavior") == "DROP_CASCADE"
    for item in node.get("objects", ()):
        parts = _drop_object_names(item)
        if parts:
            _drop_one(catalog, remove_type, parts, cascade)
    return []


def _drop_object_names(item: dict) -> list[str]:
    if "List" in item:
        return nodes.names(item["List"].get("items"))
    if "ObjectWithArgs" in item:
        return nodes.names(item["ObjectWithArgs"].get("objname"))
    if "TypeName" in item:
        return nodes.names(item["TypeName"].get("names"))
    if "String" in item:
        return [item["String"].get("sval", "")]
    return []


def _drop_one(catalog: Catalog, remove_type: str, parts: list[str], cascade: bool) -> None:
    if remove_type in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE"):
        drop_relation(catalog, nodes.qualified(parts), cascade)
    elif remove_type == "OBJECT_INDEX":
        drop_index(catalog, nodes.qualified(parts))
    elif remove_type == "OBJECT_FUNCTION" or remove_type == "OBJECT_PROCEDURE" or remove_type == "OBJECT_ROUTINE":
        drop_function(catalog, nodes.qualified(parts), cascade)
    elif remove_type in ("OBJECT_TRIGGER", "OBJECT_POLICY"):
        schema, table = nodes.qualified(parts[:-1])
        if remove_type == "OBJECT_TRIGGER":
            drop_trigger(catalog, (schema, table, parts[-1]))
        else:
            drop_policy(catalog, (schema, table, parts[-1]))
    elif remove_type in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
        catalog.named.pop(("type", nodes.qualified(parts)), None)
    elif remove_type == "OBJECT_SCHEMA":
        drop_schema(catalog, parts[-1], cascade)
    elif remove_type == "OBJECT_EXTENSION":
        catalog.named.pop(("extension", (parts[-1],)), None)


def drop_relation(catalog: Catalog, key: tuple[str, str], cascade: bool = False) -> None:
    table = catalog.tables.get(key)
    if table is None:
        return
    del catalog.tables[key]
    if cascade:  # the views and materialized views that read it go too, with their indexes
        for dependent in sorted(table.dependents):
            drop_relation(catalog, dependent, cascade=True)
    for index_name in table.indexes:
        catalog.indexes.pop((key[0], index_name), None)
    for trigger_name in table.triggers:
        drop_trigger(catalog, (key[0], key[1], trigger_name))
    for policy_name in table.policies:
        catalog.named.pop(("policy", (key[0], key[1], policy_name)), None)
    for foreign_key in table.foreign_keys:
        referenced = catalog._table_for_update(foreign_key.target)
        if referenced is not None:
            referenced.referenced_by.discard(key)
    # Foreign keys into the dropped table go with it (CASCADE drops them;
    # without CASCADE the DROP fails unless they are already gone).
    for referrer_key in table.referenced_by - {key}:
        referrer = catalog._table_for_update(referrer_key)
        if referrer is not None:
            referrer.foreign_keys = [fk for fk in referrer.foreign_keys if fk.target != key]


def drop_index(catalog: Catalog, key: tuple[str, str]) -> None:
    index = catalog.indexes.pop(key, None)
    if index is not None:
        table = catalog._table_for_update(index.table)
        if table is not None:
            table.indexes.discard(index.name)


def drop_trigger(catalog: Catalog, key: tuple[str, str, str]) -> None:
    trigger = catalog.triggers.pop(key, None)
    if trigger is None:
        return
    table = catalog._table_for_update((key[0], key[1]))
    if table is not None:
        table.triggers.discard(key[2])
    function = catalog._function_for_update(trigger.function)
    if function is not None:
        function.triggers.discard(key)


def drop_policy(catalog: Catalog, key: tuple[str, str, str]) -> None:
    catalog.named.pop(("policy", key), None)
    table = catalog._table_for_update((key[0], key[1]))
    if table is not None:
        table.policies.discard(key[2])


def drop_function(catalog: Catalog, key: tuple[str, str], cascade: bool) -> None:
    function = catalog.functions.get(key)
    if function is None:
        return
    if cascade:
        for trigger_key in list(function.triggers):
            drop_trigger(catalog, trigger_key)
    del catalog.functions[key]


def drop_schema(catalog: Catalog, schema: str, cascade: bool) -> None:
    catalog.named.pop(("schema", (schema,)), None)
    if not cascade:
        return
    for key in [key for key in catalog.tables if key[0] == schema]:
        drop_relation(catalog, key, cascade=True)
    for key in [key for key in catalog.functions if key[0] == schema]:
        drop_function(catalog, key, cascade=True)
    for named_key in [k for k in catalog.named if len(k[1]) > 1 and k[1][0] == schema]:
        del catalog.named[named_key]


def _rename(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
    rename_type = node.get("renameType")
    new_name = node.get("newname", "")
    if rename_type == "OBJECT_FUNCTION" or rename_type == "OBJECT_PROCEDURE":
        old = nodes.qualified(nodes.names(node.get("object", {}).get("ObjectWithArgs", {}).get("objname")))
        rename_function(catalog, old, (old[0], new_name))
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
    elif rename_type == "OBJECT_INDEX" and key in catalog.indexes:
        index = catalog.indexes[key]._replace(name=new_name)
        drop_index(catalog, key)
        catalog.indexes[(key[0], new_name)] = index
        owner = catalog._table_for_update(index.table)
        if owner is not None:
            owner.indexes.add(new_name)
    elif rename_type == "OBJECT_TRIGGER" and (*key, subname) in catalog.triggers:
        trigger = catalog.triggers[(*key, subname)]
        drop_trigger(catalog, (*key, subname))
        _add_trigger(catalog, trigger._replace(name=new_name))
    elif rename_type == "OBJECT_POLICY" and ("policy", (*key, subname)) in catalog.named:
        named = catalog.named[("policy", (*key, subname))]
        drop_policy(catalog, (*key, subname))
        _add_policy(catalog, Named("policy", (*key, new_name), named.origin))
    return []


def rename_relation(catalog: Catalog, key: tuple[str, str], new_name: str) -> None:
    """Rename a table and re-key what hangs off it: indexes, triggers,
    policies and the foreign keys on either side."""
    table = catalog._table_for_update(key)
    if table is None:
        return
    new_key = (key[0], new_name)
    triggers = [catalog.triggers[(*key, name)] for name in table.triggers if (*key, name) in catalog.triggers]
    policies = [catalog.named[("policy", (*key, name))] for name in table.policies
                if ("policy", (*key, name)) in catalog.named]
    for trigger in triggers:
        drop_trigger(catalog, (*key, trigger.name))
    for policy in policies:
        drop_policy(catalog, policy.key)  # type: ignore[arg-type]
    del catalog.tables[key]
    table.name = new_name
    catalog.tables[new_key] = table
    for trigger in triggers:
        _add_trigger(catalog, trigger._replace(table=new_name))
    for policy in policies:
        _add_policy(catalog, Named("policy", (*new_key, policy.key[2]), policy.origin))
    for index_name in table.indexes:
        index = catalog.indexes.get((key[0], index_name))
        if index is not None:
            catalog.indexes[(key[0], index_name)] = index._replace(table=new_key)
    _rekey_references(catalog, table, key, new_key)


def _rekey_references(catalog: Catalog, table: Table, old: tuple[str, str], new: tuple[str, str]) -> None:
    if old in table.referenced_by:  # a self-reference
        table.referenced_by = (table.referenced_by - {old}) | {new}
    table.foreign_keys = [fk._replace(target=new) if fk.target == old else fk
                          for fk in table.foreign_keys]
    for target in {fk.target for fk in table.foreign_keys} - {new}:
        referenced = catalog._table_for_update(target)
        if referenced is not None:
            referenced.referenced_by = (referenced.referenced_by - {old}) | {new}
    for referrer_key in table.referenced_by - {new}:
        referrer = catalog._table_for_update(referrer_key)
        if referrer is not None:
            referrer.foreign_keys = [fk._replace(target=new) if fk.target == old else fk
                                     for fk in referrer.foreign_keys]


def rename_column(catalog: Catalog, key: tuple[str, str], old: str, new: str) -> None:
    table = catalog._table_for_update(key)
    if table is None or old not in table.columns:
        return
    table.columns[new] = table.columns.pop(old)._replace(name=new)

    def renamed(columns: Iterable[str]) -> Any:
        return type(columns)(new if column == old else column for column in columns)  # type: ignore[call-arg]

    for index_name in table.indexes:
        index = catalog.indexes.get((key[0], index_name))
        if index is not None and old in index.columns:
            catalog.indexes[(key[0], index_name)] = index._replace(columns=renamed(index.columns))
    table.checks = {name: check._replace(columns=renamed(check.columns),
                                   not_null_columns=renamed(check.not_null_columns))
                    for name, check in table.checks.items()}
    table.foreign_keys = [fk._replace(columns=renamed(fk.columns)) for fk in table.foreign_keys]


def rename_function(catalog: Catalog, old: tuple[str, str], new: tuple[str, str]) -> None:
    function = catalog.functions.get(old)
    if function is None or new in catalog.functions:
        return
    renamed = function.copy()
    renamed.name = new[1]
    del catalog.functions[old]
    catalog.functions[new] = renamed
    for trigger_key in renamed.triggers:
        trigger = catalog.triggers.get(trigger_key)
        if trigger is not None:
            catalog.triggers[trigger_key] = trigger._replace(function=new)


# -- storage.buckets rows ------------------------------------------------------


def _insert(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
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
        catalog.buckets[bucket_id] = Bucket(bucket_id, record, catalog.origin(statement))
        if not existed:
            created.append(ObjectRef("bucket", (bucket_id,)))
    return created


def _update(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
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


def _delete(catalog: Catalog, statement: Statement, node: dict) -> list[ObjectRef]:
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
    "CreatePolicyStmt": _create_named("policy", _policy_key),
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
__all__ = ["Catalog", "ObjectRef", "Origin", "Table", "Column", "Index", "Trigger", "Function", "Bucket", "UNKNOWN"]
