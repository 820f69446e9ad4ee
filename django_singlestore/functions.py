"""SingleStore SQL for Django expressions, and the record of the vendor decision.

**Decision: `vendor` stays "mysql".** SingleStore speaks MySQL's wire protocol and most of its SQL,
so Django's `as_mysql` methods and `connection.vendor == "mysql"` branches are right far more often
than wrong, and third-party apps that test for "mysql" get MySQL-compatible SQL. Where MySQL's SQL
is not SingleStore SQL, this module supplies SingleStore's: `compiler.SQLCompiler.compile()` looks
the node's class up in `SINGLESTORE_SQL` (walking the MRO) before Django's own `as_mysql`/`as_sql`
dispatch. Nothing in Django is patched; a handler either builds the SQL itself or compiles a copy of
the node whose class is a private subclass ("twin") overriding the MySQL-only step.

`MYSQL_PATH_DECISIONS` records the decision for every `as_mysql` method and every
`vendor == "mysql"` branch in the supported Django versions; `tests/backend/test_vendor_paths.py`
lists them in the installed Django and fails on one without a decision here.
"""

from __future__ import annotations

import copy
import decimal
from collections.abc import Callable
from typing import Any

from django.db import NotSupportedError
from django.db.models import functions, lookups
from django.db.models.expressions import Expression
from django.db.models.fields import json as json_fields

from django_singlestore.operations import cast_sql

__all__ = ["MYSQL_PATH_DECISIONS", "SINGLESTORE_SQL", "compile_singlestore"]

Handler = Callable[[Any, Any, Any], tuple[str, Any]]

#: Django's MySQL spelling of "this string is a JSON document" and SingleStore's.
MYSQL_JSON_LITERAL = "JSON_EXTRACT(%s, '$')"
SINGLESTORE_JSON_LITERAL = cast_sql("%s", "JSON")


# --- Twins: compile a copy of the node as a private subclass ------------------------------------------

_twins: dict[tuple[type, type], type] = {}


def _as_twin(node: Any, mixin: type) -> Any:
    cls = type(node)
    twin = _twins.get((cls, mixin))
    if twin is None:
        twin = type(f"SingleStore{cls.__name__}", (mixin, cls), {"__module__": __name__})
        _twins[(cls, mixin)] = twin
    clone = copy.copy(node)
    clone.__class__ = twin
    return clone


class _JSONLiteralMixin:
    """Replace MySQL's `JSON_EXTRACT(%s, '$')` (parse a JSON text) with `((%s) :> JSON)`."""

    def process_rhs(self, compiler, connection):
        sql, params = super().process_rhs(compiler, connection)  # type: ignore[misc]
        return sql.replace(MYSQL_JSON_LITERAL, SINGLESTORE_JSON_LITERAL), params

    def resolve_expression_parameter(self, compiler, connection, sql, param):
        sql, params = super().resolve_expression_parameter(compiler, connection, sql, param)  # type: ignore[misc]
        return sql.replace(MYSQL_JSON_LITERAL, SINGLESTORE_JSON_LITERAL), params


class _JSONInMixin(_JSONLiteralMixin):
    """Django 6.1's JSONIn wraps a JSON column in JSON_EXTRACT(col, '$'); compare the column itself."""

    def process_lhs(self, compiler, connection):
        if isinstance(self.lhs, json_fields.KeyTransform):  # type: ignore[attr-defined]
            return super().process_lhs(compiler, connection)  # type: ignore[misc]
        return lookups.In.process_lhs(self, compiler, connection)


_NUMERIC_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "FloatField",
        "DecimalField",
    }
)


class _JSONNumericMixin:
    """`key__lt=5`: compare the key as a number (JSON_EXTRACT_DOUBLE), or as text for a string."""

    def process_lhs(self, compiler, connection):
        rhs = self.rhs  # type: ignore[attr-defined]
        if hasattr(rhs, "resolve_expression"):
            output = getattr(rhs, "_output_field_or_none", None)
            numeric = output is not None and output.get_internal_type() in _NUMERIC_TYPES
        else:
            numeric = isinstance(rhs, int | float | decimal.Decimal) and not isinstance(rhs, bool)
        function = "JSON_EXTRACT_DOUBLE" if numeric else "JSON_EXTRACT_STRING"
        return _extract(function)(self.lhs, compiler, connection)  # type: ignore[attr-defined]


class _SingleLowerMixin:
    """JSON i-lookups: LOWER() once. DatabaseOperations.lookup_cast and the operators already lower
    both sides (for every field type), so skip CaseInsensitiveMixin's second LOWER()."""

    def process_lhs(self, compiler, connection):
        return super(json_fields.CaseInsensitiveMixin, self).process_lhs(compiler, connection)  # type: ignore[misc]

    def process_rhs(self, compiler, connection):
        return super(json_fields.CaseInsensitiveMixin, self).process_rhs(compiler, connection)  # type: ignore[misc]


def _twin_handler(mixin: type) -> Handler:
    def handler(node, compiler, connection):
        return _as_twin(node, mixin).as_sql(compiler, connection)

    return handler


# --- JSON key paths -----------------------------------------------------------------------------------


def _key_param(key: Any, *, array_index: bool = True) -> Any:
    """A JSON_EXTRACT_<type> / JSON_MATCH_ANY_EXISTS key path argument: an int for an array index."""
    if array_index:
        try:
            index = int(key)
        except (TypeError, ValueError):
            pass
        else:
            if index < 0:
                # features.supports_json_negative_indexing is False: Django's own message.
                raise NotSupportedError(
                    "Using negative JSON array indices is not supported on this database backend."
                )
            return index
    return str(key)


def _extract(function: str) -> Handler:
    def handler(node, compiler, connection):
        lhs, params, keys = node.preprocess_lhs(compiler, connection)
        placeholders = ", ".join(["%s"] * len(keys))
        return f"{function}({lhs}, {placeholders})", [*params, *(_key_param(k) for k in keys)]

    return handler


def _has_key(node, compiler, connection):
    if isinstance(node.lhs, json_fields.KeyTransform):
        lhs, lhs_params, lhs_keys = node.lhs.preprocess_lhs(compiler, connection)
    else:
        lhs, lhs_params = node.process_lhs(compiler, connection)
        lhs_keys = []
    rhs = node.rhs if isinstance(node.rhs, list | tuple) else [node.rhs]
    final_may_be_index = isinstance(node, json_fields.HasKeyOrArrayIndex)
    parts, params = [], []
    for key in rhs:
        if isinstance(key, json_fields.KeyTransform):
            *_, keys = key.preprocess_lhs(compiler, connection)
        else:
            keys = [key]
        path = [*lhs_keys, *keys]
        args = [_key_param(k) for k in path[:-1]]
        args.append(_key_param(path[-1], array_index=final_may_be_index))
        sql = f"JSON_MATCH_ANY_EXISTS({lhs}, {', '.join(['%s'] * len(args))})"
        params.extend([*lhs_params, *args])
        if not final_may_be_index and str(path[-1]).isdigit():
            # SingleStore reads a numeric key on an array as an index ('JSON Keypaths'); has_key means
            # an object's key, so the container must be an object.
            container = (
                f"JSON_EXTRACT_JSON({lhs}, {', '.join(['%s'] * (len(args) - 1))})" if args[:-1] else lhs
            )
            sql = f"({sql} AND JSON_GET_TYPE({container}) = 'object')"
            params.extend([*lhs_params, *args[:-1]])
        parts.append(sql)
    if len(parts) > 1:
        return f"({node.logical_operator.join(parts)})", params
    return parts[0], params


def _key_isnull(node, compiler, connection):
    transform = node.lhs
    exists_sql, exists_params = compiler.compile(
        json_fields.HasKeyOrArrayIndex(transform.lhs, transform.key_name)
    )
    if not node.rhs:
        return exists_sql, exists_params
    # The key is missing, or the whole document is NULL.
    base, base_params, _ = transform.preprocess_lhs(compiler, connection)
    return f"(NOT {exists_sql} OR {base} IS NULL)", [*exists_params, *base_params]


# --- Functions ----------------------------------------------------------------------------------------


def _cast(node, compiler, connection):
    return node.as_sql(compiler, connection, template=cast_sql("%(expressions)s", "%(db_type)s"))


def _now(node, compiler, connection):
    return node.as_sql(compiler, connection, template=connection.ops.current_timestamp_sql())


def _function(name: str) -> Handler:
    def handler(node, compiler, connection):
        return node.as_sql(compiler, connection, function=name)

    return handler


def _chr(node, compiler, connection):
    # CHAR(n) returns a binary string (as in MySQL); cast it to text. Without MySQL's `USING utf16`,
    # only ASCII code points give the same character as Python's chr().
    return node.as_sql(
        compiler, connection, function="CHAR", template=cast_sql("%(function)s(%(expressions)s)", "LONGTEXT")
    )


def _json_object(node, compiler, connection):
    # JSON_BUILD_OBJECT(key, value, ...): SingleStore's spelling of MySQL's JSON_OBJECT.
    return node.as_sql(compiler, connection, function="JSON_BUILD_OBJECT")


def _refuse(reason: str) -> Handler:
    def handler(node, compiler, connection):
        raise NotSupportedError(reason)

    return handler


#: Django class -> how SingleStore spells it. Looked up along the node's MRO.
SINGLESTORE_SQL: dict[type, Handler] = {
    json_fields.KeyTransform: _extract("JSON_EXTRACT_JSON"),
    json_fields.KeyTextTransform: _extract("JSON_EXTRACT_STRING"),
    json_fields.HasKeyLookup: _has_key,
    json_fields.KeyTransformIsNull: _key_isnull,
    json_fields.JSONExact: _twin_handler(_JSONLiteralMixin),
    json_fields.KeyTransformIn: _twin_handler(_JSONLiteralMixin),
    json_fields.KeyTransformNumericLookupMixin: _twin_handler(_JSONNumericMixin),
    json_fields.CaseInsensitiveMixin: _twin_handler(_SingleLowerMixin),
    functions.Cast: _cast,
    functions.Now: _now,
    functions.Length: _function("CHARACTER_LENGTH"),
    functions.Ord: _function("ASCII"),
    functions.Chr: _chr,
    functions.JSONObject: _json_object,
    functions.CumeDist: _refuse("SingleStore does not support the CUME_DIST window function."),
}
if hasattr(json_fields, "JSONIn"):  # Django >= 6.1
    SINGLESTORE_SQL[json_fields.JSONIn] = _twin_handler(_JSONInMixin)
    SINGLESTORE_SQL[json_fields.KeyTransformIn] = _twin_handler(_JSONInMixin)

_expressions_module = __import__("django.db.models.expressions", fromlist=["JSONNull"])
if hasattr(_expressions_module, "JSONNull"):  # Django >= 6.1

    def _json_null(node, compiler, connection):
        sql, params = node.as_sql(compiler, connection)
        return SINGLESTORE_JSON_LITERAL.replace("%s", sql), params

    SINGLESTORE_SQL[_expressions_module.JSONNull] = _json_null


def compile_singlestore(node: Expression, compiler, connection) -> tuple[str, Any] | None:
    """SingleStore's SQL for `node`, or None when Django's own (MySQL) path is right."""
    cls = type(node)
    try:
        handler = _handler_for_class[cls]
    except KeyError:
        handler = next((SINGLESTORE_SQL[k] for k in cls.__mro__ if k in SINGLESTORE_SQL), None)
        _handler_for_class[cls] = handler
    if handler is None:
        return None
    return handler(node, compiler, connection)


#: type(node) -> its handler along the MRO (or None): compile() runs for every node of every query.
_handler_for_class: dict[type, Handler | None] = {}


# --- The record: every MySQL-specific path in Django 5.2 and 6.1 ----------------------------------------

_OVERRIDE = "override"
_INHERIT = "inherit"

#: "module.Class.method" -> (decision, reason). `inherit`: the MySQL SQL is SingleStore SQL and is
#: used as is. `override`: SINGLESTORE_SQL (or DatabaseOperations) supplies SingleStore's.
MYSQL_PATH_DECISIONS: dict[str, tuple[str, str]] = {
    # as_mysql methods
    "django.db.models.fields.json.HasKeyLookup.as_mysql": (
        _OVERRIDE,
        "JSON_CONTAINS_PATH is MySQL-only; JSON_MATCH_ANY_EXISTS(json, key, ...)",
    ),
    "django.db.models.fields.json.KeyTransform.as_mysql": (
        _OVERRIDE,
        "JSON_EXTRACT with '$.path' is MySQL-only; JSON_EXTRACT_JSON(json, key, ...)",
    ),
    "django.db.models.fields.json.KeyTextTransform.as_mysql": (
        _OVERRIDE,
        "->> is MySQL-only; JSON_EXTRACT_STRING(json, key, ...)",
    ),
    "django.db.models.functions.comparison.Cast.as_mysql": (
        _OVERRIDE,
        "SingleStore's `(expr) :> type` with real column types (also covers FloatField and JSONField)",
    ),
    "django.db.models.functions.datetime.Now.as_mysql": (
        _OVERRIDE,
        "SET time_zone is a no-op on SingleStore: UTC_TIMESTAMP(6) under USE_TZ, CURRENT_TIMESTAMP(6) otherwise",
    ),
    "django.db.models.functions.math.Random.as_mysql": (_INHERIT, "RAND() exists in SingleStore"),
    "django.db.models.functions.mixins.FixDurationInputMixin.as_mysql": (
        _INHERIT,
        "CAST(x AS SIGNED) is valid SingleStore SQL",
    ),
    "django.db.models.functions.text.Chr.as_mysql": (
        _OVERRIDE,
        "CHAR(n USING utf16) is not documented for SingleStore; ((CHAR(n)) :> LONGTEXT), ASCII code points",
    ),
    "django.db.models.functions.text.ConcatPair.as_mysql": (
        _INHERIT,
        "CONCAT_WS('', ...) exists in SingleStore",
    ),
    "django.db.models.functions.text.Length.as_mysql": (
        _OVERRIDE,
        "SingleStore documents CHARACTER_LENGTH (not CHAR_LENGTH)",
    ),
    "django.db.models.functions.text.MySQLSHA2Mixin.as_mysql": (_INHERIT, "SHA2(x, n) exists in SingleStore"),
    "django.db.models.functions.text.Ord.as_mysql": (
        _OVERRIDE,
        "SingleStore documents ASCII(), not ORD(); differs from ORD for multi-byte characters",
    ),
    "django.db.models.aggregates.StringAgg.as_mysql": (
        _INHERIT,
        "GROUP_CONCAT(... ORDER BY ... SEPARATOR ...) exists in SingleStore",
    ),
    "django.db.models.aggregates.StringAggDelimiter.as_mysql": (_INHERIT, "part of GROUP_CONCAT's SEPARATOR"),
    "django.db.models.expressions.JSONNull.as_mysql": (_OVERRIDE, "JSON null as (('null') :> JSON)"),
    "django.db.models.functions.uuid.UUID4.as_mysql": (
        _INHERIT,
        "raises NotSupportedError (features.supports_uuid4_function is False)",
    ),
    "django.db.models.functions.uuid.UUID7.as_mysql": (
        _INHERIT,
        "raises NotSupportedError (features.supports_uuid7_function is False)",
    ),
    "django.contrib.gis.db.models.functions.GeoHash.as_mysql": (
        _INHERIT,
        "GIS is not supported by this backend (no spatial backend); never reached",
    ),
    # connection.vendor == "mysql" branches
    "django.db.models.fields.json.CaseInsensitiveMixin.process_lhs": (
        _OVERRIDE,
        "LOWER(lhs) already comes from lookup_cast (all i-lookups lower both sides); not doubled (twin class)",
    ),
    "django.db.models.fields.json.CaseInsensitiveMixin.process_rhs": (
        _OVERRIDE,
        "LOWER(rhs) already comes from the operators; not doubled (twin class)",
    ),
    "django.db.models.fields.json.JSONExact.process_rhs": (
        _OVERRIDE,
        "JSON_EXTRACT(%s, '$') replaced by ((%s) :> JSON) (twin class)",
    ),
    "django.db.models.fields.json.KeyTransformIn.resolve_expression_parameter": (
        _OVERRIDE,
        "JSON_EXTRACT(%s, '$') replaced by ((%s) :> JSON) (twin class)",
    ),
    "django.db.models.fields.json.JSONIn.resolve_expression_parameter": (
        _OVERRIDE,
        "JSON_EXTRACT(%s, '$') replaced by ((%s) :> JSON) (twin class)",
    ),
    "django.db.models.fields.json.JSONIn.process_lhs": (
        _OVERRIDE,
        "the JSON column is compared as is instead of JSON_EXTRACT(col, '$') (twin class)",
    ),
}
