"""Small readers for libpg_query's JSON parse tree (plain dicts).

A node is `{"TypeName": {...fields...}}`; a list of names is
`[{"String": {"sval": "public"}}, {"String": {"sval": "brands"}}]`.
Unqualified names belong to schema `public` (Supabase's default search_path).
"""

from __future__ import annotations

from typing import Any, Iterator

DEFAULT_SCHEMA = "public"


class _Unknown:
    """A value the linter cannot know without running SQL (an expression)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def names(items: list[dict] | None) -> list[str]:
    """The strings of a name list, e.g. ['public', 'brands']."""
    result = []
    for item in items or ():
        string = item.get("String")
        if string is not None:
            result.append(string.get("sval", ""))
    return result


def qualified(parts: list[str]) -> tuple[str, str]:
    """(schema, name) of a possibly qualified name."""
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return DEFAULT_SCHEMA, parts[-1] if parts else ""


def relation_key(range_var: dict) -> tuple[str, str]:
    """(schema, name) of a RangeVar."""
    return range_var.get("schemaname", DEFAULT_SCHEMA), range_var.get("relname", "")


def display(key: tuple[str, ...]) -> str:
    return ".".join(key)


def type_parts(node: dict | None) -> tuple[str, tuple[object, ...], str]:
    """A TypeName node's readable name (`varchar(255)`, `text[]`), its
    modifiers (`(255,)`) and base type (`varchar`, `int4`), in one pass: the
    catalog records all three for every column."""
    if not node:
        return "", (), ""
    parts = [item["String"]["sval"] for item in node.get("names", ()) if "String" in item]
    base = parts[-1] if parts else ""
    shown = ".".join(part for part in parts if part != "pg_catalog")
    typmods = node.get("typmods")
    mods = tuple(const_value(mod) for mod in typmods) if typmods else ()
    if mods:
        shown += "(" + ",".join(str(mod) for mod in mods) + ")"
    bounds = node.get("arrayBounds")
    if bounds:
        shown += "[]" * len(bounds)
    return shown, mods, base


def type_name(node: dict | None) -> str:
    """A readable type: `varchar(255)`, `text[]`, `timestamptz`."""
    return type_parts(node)[0]


def type_mods(node: dict | None) -> tuple[object, ...]:
    return type_parts(node)[1]


def base_type(node: dict | None) -> str:
    """The type's last name without modifiers: `varchar`, `int4`, `text`."""
    return type_parts(node)[2]


def const_value(node: dict | None) -> Any:
    """The Python value of a constant expression, or UNKNOWN."""
    if not node:
        return UNKNOWN
    (kind, body), = node.items()
    reader = _CONST_READERS.get(kind)
    return reader(body) if reader else UNKNOWN


def _a_const(body: dict) -> Any:
    if body.get("isnull"):
        return None
    for key, convert in (("ival", int), ("sval", str), ("boolval", bool), ("fval", _number)):
        if key in body:
            inner = body[key]
            return convert(inner.get(key, convert()))
    return UNKNOWN


def _number(text: str = "0") -> float:
    return float(text)


def _type_cast(body: dict) -> Any:
    value = const_value(body.get("arg"))
    target = body.get("typeName") or {}
    if isinstance(value, str):
        if target.get("arrayBounds"):
            return parse_array_literal(value)
        if base_type(target) == "bool":
            return {"true": True, "t": True, "false": False, "f": False}.get(value.lower(), UNKNOWN)
        if base_type(target) in ("int2", "int4", "int8") and value.strip().lstrip("-").isdigit():
            return int(value)
    return value


def _array_expr(body: dict) -> Any:
    values = [const_value(element) for element in body.get("elements", ())]
    return UNKNOWN if any(value is UNKNOWN for value in values) else values


def _arithmetic(body: dict) -> Any:
    operator = names(body.get("name"))
    if body.get("kind") != "AEXPR_OP" or len(operator) != 1:
        return UNKNOWN
    left, right = const_value(body.get("lexpr")), const_value(body.get("rexpr"))
    if not (isinstance(left, int) and isinstance(right, int)) or isinstance(left, bool):
        return UNKNOWN
    symbol = operator[0]
    if symbol == "*":
        return left * right
    if symbol == "+":
        return left + right
    if symbol == "-":
        return left - right
    return UNKNOWN


_CONST_READERS = {
    "A_Const": _a_const,
    "TypeCast": _type_cast,
    "A_ArrayExpr": _array_expr,
    "A_Expr": _arithmetic,
}


def parse_array_literal(text: str) -> Any:
    """A simple one-dimensional array literal: '{image/png,"a b"}'."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return UNKNOWN
    inner = text[1:-1].strip()
    if not inner:
        return []
    return [item.strip().strip('"') for item in inner.split(",")]


def walk(node: Any) -> Iterator[tuple[str, dict]]:
    """Every (node type, fields) pair inside a tree, depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                if isinstance(value, dict):
                    if key[:1].isupper():
                        yield key, value
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(value)
        elif isinstance(current, list):
            stack.extend(current)


def location(node: dict | None, default: int = 0) -> int:
    """A node's own byte offset (libpg_query uses -1 for 'unknown')."""
    if node:
        value = node.get("location", -1)
        if value >= 0:
            return value
    return default


def def_elems(items: list[dict] | None) -> Iterator[dict]:
    for item in items or ():
        element = item.get("DefElem")
        if element is not None:
            yield element


def column_refs(node: Any) -> Iterator[str]:
    """The column names an expression reads (the last part of each ColumnRef)."""
    if not node:
        return
    for node_type, body in walk(node):
        if node_type == "ColumnRef":
            parts = names(body.get("fields"))
            if parts:
                yield parts[-1]


def not_null_tests(node: dict | None) -> Iterator[str]:
    """Columns an expression proves NOT NULL: `col IS NOT NULL`, alone or in
    an AND (what lets PostgreSQL skip SET NOT NULL's scan)."""
    if not node:
        return
    boolean = node.get("BoolExpr")
    if boolean is not None:
        if boolean.get("boolop") == "AND_EXPR":
            for arg in boolean.get("args", ()):
                yield from not_null_tests(arg)
        return
    test = node.get("NullTest")
    if test is not None and test.get("nulltesttype") == "IS_NOT_NULL":
        parts = names(test.get("arg", {}).get("ColumnRef", {}).get("fields"))
        if parts:
            yield parts[-1]
