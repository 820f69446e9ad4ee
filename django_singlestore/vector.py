"""SingleStore's VECTOR type in the ORM: a field, distance expressions and a vector index.

    from django_singlestore.vector import CosineDistance, EuclideanDistance, VectorField, VectorIndex

    class Doc(models.Model):
        text = models.TextField()
        embedding = VectorField(dimensions=384)                 # VECTOR(384, F32) NOT NULL

        class Meta:
            indexes = [VectorIndex(fields=["embedding"], index_type="IVF_PQFS", metric="EUCLIDEAN_DISTANCE")]

    Doc.objects.annotate(d=EuclideanDistance("embedding", query)).order_by("d")[:10]

Values are lists of floats (of ints for the integer element types); numpy arrays are accepted, and
returned with ``as_numpy=True`` when numpy is installed. SingleStore projects a vector as JSON text by
default and as packed little-endian elements under ``vector_type_project_format = BINARY``
[doc: vector-type; singlestore-semantics.md s6]: the field reads both and writes compact JSON text.

The expressions compile to ``DOT_PRODUCT`` / ``EUCLIDEAN_DISTANCE`` [doc: vector-functions]; a query
vector is sent once as a JSON parameter cast with ``:> VECTOR(n, T)`` (a bare string would be read
as packed bytes). The cosine forms are built from DOT_PRODUCT and the norms; the query vector's norm is
computed in Python. They are cheap to build and compare: each has a fixed identity (the column and
the query vector's JSON text), not Django's signature-based one.

A ``VectorIndex`` is ``ALTER TABLE t ADD VECTOR INDEX name (col) INDEX_OPTIONS '<json>'``. SingleStore's
rules for it [doc: vector-indexing, v8.5 to v9.1 and cloud] are system checks (validation.py):
columnstore tables only (singlestore.E006), exactly one column (E007), of type VECTOR(n, F32) (E008);
a VectorField's own dimensions and element type: E009; a nullable indexed column: W004 on servers
before 8.7 (the 8.5 page requires NOT NULL; later pages do not; the 8.7 boundary is an assumption).
"""

from __future__ import annotations

import functools
import json
import math
import sys
from array import array
from collections.abc import Sequence
from typing import Any

from django.core import checks, exceptions
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.ddl_references import Columns, Statement, Table
from django.db.models.base import ModelState
from django.db.models.expressions import Expression, F
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.utils.asyncio import async_unsafe
from django.utils.functional import cached_property

try:  # numpy is optional: accepted when installed, returned only with as_numpy=True
    import numpy as _np
except ImportError:  # pragma: no cover - numpy is installed in the test environments
    _np = None  # type: ignore[assignment]

__all__ = [
    "ELEMENT_TYPES",
    "CosineDistance",
    "CosineSimilarity",
    "DotProduct",
    "EuclideanDistance",
    "QueryVector",
    "VectorField",
    "VectorIndex",
    "VectorManager",
    "vector_index_issues",
]

#: SingleStore's element types [doc: vector-type] -> (array typecode, bytes per element, %-format
#: that round-trips the element: 9 significant digits for F32, 17 for F64, 5 for F16, %d for integers).
ELEMENT_TYPES: dict[str, tuple[str, int, str]] = {
    "F32": ("f", 4, "%.9g"),
    "F64": ("d", 8, "%.17g"),
    "F16": ("e", 2, "%.5g"),
    "I8": ("b", 1, "%d"),
    "I16": ("h", 2, "%d"),
    "I32": ("i", 4, "%d"),
    "I64": ("q", 8, "%d"),
}
#: INDEX_OPTIONS "index_type" values [doc: vector-indexing] and the two metrics.
INDEX_TYPES = ("AUTO", "FLAT", "IVF_FLAT", "IVF_PQ", "IVF_PQFS", "HNSW_FLAT", "HNSW_PQ")
METRICS = ("DOT_PRODUCT", "EUCLIDEAN_DISTANCE")
_BIG_ENDIAN = sys.byteorder == "big"


@functools.lru_cache(maxsize=64)
def _formatter(element_type: str, dimensions: int) -> str:
    """The %-format of a vector's JSON text (kept: building it is a join per query vector)."""
    code = ELEMENT_TYPES[element_type][2]
    return "[" + ",".join([code] * dimensions) + "]"


#: JSON text -> a list of floats (integers too: "[1,2]" is F32 1.0, 2.0); one decoder for every value,
#: where json.loads(text, parse_int=float) builds a JSONDecoder per call.
_load_floats = json.JSONDecoder(parse_int=float).decode


def _is_array(value: Any) -> bool:
    return _np is not None and isinstance(value, _np.ndarray)


class VectorField(models.Field):
    """``VECTOR(dimensions, element_type)``: a fixed-length vector of numbers."""

    description = "SingleStore vector"
    empty_strings_allowed = False

    def __init__(
        self, dimensions: int | None = None, element_type: str = "F32", as_numpy: bool = False, **kwargs: Any
    ) -> None:
        self.dimensions = dimensions
        self.element_type = element_type.upper() if isinstance(element_type, str) else element_type
        self.as_numpy = as_numpy
        super().__init__(**kwargs)

    # -- definition --------------------------------------------------------------------------------
    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if not isinstance(self.dimensions, int) or isinstance(self.dimensions, bool) or self.dimensions < 1:
            errors.append(
                checks.Error(
                    f"VectorField {self.name!r} needs dimensions, a positive integer (got {self.dimensions!r}).",
                    hint="VectorField(dimensions=384): SingleStore's VECTOR(<N>) has exactly N elements.",
                    obj=self,
                    id="singlestore.E009",
                )
            )
        if self.element_type not in ELEMENT_TYPES:
            errors.append(
                checks.Error(
                    f"VectorField {self.name!r} has element_type {self.element_type!r}; SingleStore's "
                    f"element types are {', '.join(ELEMENT_TYPES)}.",
                    hint="Leave the default, F32 (the only type a VectorIndex accepts).",
                    obj=self,
                    id="singlestore.E009",
                )
            )
        if self.as_numpy and _np is None:
            errors.append(
                checks.Error(
                    f"VectorField {self.name!r} has as_numpy=True but numpy is not installed.",
                    obj=self,
                    id="singlestore.E009",
                )
            )
        return errors

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["dimensions"] = self.dimensions
        if self.element_type != "F32":
            kwargs["element_type"] = self.element_type
        if self.as_numpy:
            kwargs["as_numpy"] = True
        return name, path, args, kwargs

    def db_type(self, connection: Any) -> str:
        return f"VECTOR({self.dimensions}, {self.element_type})"

    def get_internal_type(self) -> str:
        return "VectorField"

    @cached_property
    def _label(self) -> str:
        model = getattr(self, "model", None)
        return f"{model._meta.label}.{self.name}" if model is not None else repr(self.name)

    @cached_property
    def _format(self) -> str:
        return _formatter(self.element_type, self.dimensions or 0)

    # -- reading -----------------------------------------------------------------------------------
    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self._decode(value)

    def _decode(self, value: str | bytes | bytearray | memoryview) -> Any:
        """JSON text or packed little-endian elements -> a list (an ndarray with as_numpy)."""
        loads = _load_floats if self.element_type[0] == "F" else json.loads
        if isinstance(value, str):
            items = loads(value)
            return _np.asarray(items, dtype=self._dtype) if self.as_numpy else items
        raw = bytes(value)
        if raw[:1] == b"[" and raw[-1:] == b"]":
            try:
                items = loads(raw.decode())
            except ValueError:
                pass  # packed elements that happen to start with '[' and end with ']'
            else:
                return _np.asarray(items, dtype=self._dtype) if self.as_numpy else items
        code, size, _ = ELEMENT_TYPES[self.element_type]
        if len(raw) != size * (self.dimensions or 0):
            raise exceptions.ValidationError(
                f"{self._label}: {len(raw)} bytes are neither JSON nor {self.dimensions} packed "
                f"{self.element_type} elements."
            )
        if self.as_numpy:
            return _np.frombuffer(raw, dtype=self._dtype).astype(self._dtype.newbyteorder("="))
        packed = array(code, raw)
        if _BIG_ENDIAN:  # pragma: no cover - little-endian hosts
            packed.byteswap()
        return packed.tolist()

    @cached_property
    def _dtype(self) -> Any:
        return _np.dtype("<" + ELEMENT_TYPES[self.element_type][0])

    def to_python(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            if isinstance(value, str | bytes | bytearray | memoryview):
                value = self._decode(value)
            self._encode(value)
        except (ValueError, TypeError) as exc:
            raise exceptions.ValidationError(str(exc), code="invalid") from exc
        if self.as_numpy and not _is_array(value):
            return _np.asarray(value, dtype=self._dtype)
        return value if self.as_numpy or isinstance(value, list) else list(value)

    # -- writing -----------------------------------------------------------------------------------
    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        if isinstance(value, str):
            value = self._decode(value)  # validated like any other value
        elif isinstance(value, bytes | bytearray | memoryview):
            value = self._decode(value)
        return self._encode(value)

    def _encode(self, value: Any) -> str:
        """Compact JSON text of ``value``; ValueError naming the field for a wrong length, NaN or infinity."""
        if _is_array(value):
            if value.ndim != 1:
                raise ValueError(f"{self._label}: expected a 1-dimensional array, got shape {value.shape}.")
            value = value.tolist()
        try:
            n = len(value)
        except TypeError:
            raise TypeError(f"{self._label}: expected a sequence of numbers, got {value!r}.") from None
        if n != self.dimensions:
            raise ValueError(f"{self._label}: expected {self.dimensions} dimensions, got {n}.")
        try:
            text = self._format % tuple(value)
        except TypeError:
            raise TypeError(f"{self._label}: every element must be a number.") from None
        if "n" in text:  # "nan" / "inf": no other character of the %g/%d output is an 'n'
            raise ValueError(f"{self._label}: NaN and infinity cannot be stored in a VECTOR.")
        if self.element_type[0] == "I" and any(isinstance(v, float) and not v.is_integer() for v in value):
            raise ValueError(f"{self._label}: {self.element_type} elements must be integers.")
        return text

    def value_to_string(self, obj: Any) -> Any:
        value = self.value_from_object(obj)
        return None if value is None else self._encode(value)


# --- Expressions -----------------------------------------------------------------------------------

_FLOAT = models.FloatField()


def _query_vector_text(vector_format: str, values: Sequence[Any]) -> str:
    """A query vector's JSON text; TypeError for a non-number, ValueError for no element, NaN or inf."""
    try:
        text = vector_format % tuple(values)
    except TypeError:
        raise TypeError("Every element of a query vector must be a number.") from None
    if not values or "n" in text:  # "nan" / "inf": no other character of %g/%d output is an 'n'
        raise ValueError("A query vector needs at least one element and no NaN or infinity.")
    return text


class QueryVector(Expression):
    """A literal vector: one JSON parameter cast to ``VECTOR(n, T)``."""

    output_field = _FLOAT  # shared: a Field per expression is measurable per query

    def __init__(self, values: Any, element_type: str = "F32") -> None:
        super().__init__()
        if _is_array(values):
            values = values.tolist()
        values = list(values)
        element_type = element_type.upper()
        if element_type not in ELEMENT_TYPES:
            raise ValueError(f"Unknown vector element type {element_type!r}.")
        text = _query_vector_text(_formatter(element_type, len(values)), values)
        self.values = values
        self.element_type = element_type
        self.json = text
        self.dimensions = len(values)
        self.sql = f"%s :> VECTOR({self.dimensions}, {element_type})"
        self._identity = (QueryVector, text, element_type)

    @property
    def identity(self) -> Any:
        return self._identity

    @cached_property
    def norm(self) -> float:
        return math.sqrt(math.fsum(v * v for v in self.values))

    def resolve_expression(self, *args: Any, **kwargs: Any) -> QueryVector:
        return self  # nothing to resolve: a literal

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        return self.sql, (self.json,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QueryVector) and other._identity == self._identity

    def __hash__(self) -> int:
        return hash(self._identity)


def _vector_operand(value: Any) -> Any:
    if isinstance(value, str):
        return F(value)
    if hasattr(value, "resolve_expression"):
        return value
    return QueryVector(value)


class _VectorFunction(Expression):
    """``FUNCTION(a, b)`` over two vectors; a float."""

    function = ""
    output_field = _FLOAT

    def __init__(self, expression: Any, vector: Any) -> None:
        super().__init__()
        self.lhs = _vector_operand(expression)
        self.rhs = _vector_operand(vector)

    @property
    def identity(self) -> Any:
        # Cheap and fixed: the class and the two operands' identities (Django's default inspects the
        # constructor's signature on first use).
        return (type(self), _identity(self.lhs), _identity(self.rhs))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other.identity == self.identity

    def __hash__(self) -> int:
        return hash(self.identity)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.lhs!r}, {self.rhs!r})"

    def get_source_expressions(self) -> list[Any]:
        return [self.lhs, self.rhs]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.lhs, self.rhs = exprs

    def resolve_expression(
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        c = self.copy()
        c.is_summary = summarize
        c.lhs = self.lhs.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        c.rhs = self.rhs.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        for side, other in ((c.lhs, c.rhs), (c.rhs, c.lhs)):
            field = getattr(side, "target", None) or getattr(getattr(side, "field", None), "target", None)
            field = getattr(side, "output_field", None) if field is None else field
            if (
                isinstance(field, VectorField)
                and isinstance(other, QueryVector)
                and field.dimensions != other.dimensions
            ):
                raise ValueError(
                    f"{field._label}: the query vector has {other.dimensions} dimensions, the "
                    f"field {field.dimensions}."
                )
        return c

    def operands_sql(self, compiler: Any) -> tuple[str, tuple[Any, ...], str, tuple[Any, ...]]:
        lhs, lhs_params = compiler.compile(self.lhs)
        rhs, rhs_params = compiler.compile(self.rhs)
        return lhs, tuple(lhs_params), rhs, tuple(rhs_params)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lp, rhs, rp = self.operands_sql(compiler)
        return f"{self.function}({lhs}, {rhs})", lp + rp


def _identity(expression: Any) -> Any:
    if isinstance(expression, F):
        return (F, expression.name)
    return expression.identity


class DotProduct(_VectorFunction):
    """``DOT_PRODUCT(a, b)``: larger is closer (for unit vectors it is the cosine similarity)."""

    function = "DOT_PRODUCT"


class EuclideanDistance(_VectorFunction):
    """``EUCLIDEAN_DISTANCE(a, b)``: smaller is closer."""

    function = "EUCLIDEAN_DISTANCE"


class CosineSimilarity(_VectorFunction):
    """``DOT_PRODUCT(a, b) / (|a| |b|)`` from DOT_PRODUCT and SQRT (a query vector's norm is computed in
    Python); NULL when a vector is all zeros (division by zero)."""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lp, rhs, rp = self.operands_sql(compiler)
        if isinstance(self.rhs, QueryVector):
            norm = f"{self.rhs.norm!r}e0"  # the exponent makes it a DOUBLE literal, not a DECIMAL
            return (
                f"(DOT_PRODUCT({lhs}, {rhs}) / (SQRT(DOT_PRODUCT({lhs}, {lhs})) * {norm}))",
                lp + rp + lp + lp,
            )
        sql = f"(DOT_PRODUCT({lhs}, {rhs}) / (SQRT(DOT_PRODUCT({lhs}, {lhs})) * SQRT(DOT_PRODUCT({rhs}, {rhs}))))"
        return sql, lp + rp + lp + lp + rp + rp


class CosineDistance(CosineSimilarity):
    """``1 - CosineSimilarity``: smaller is closer."""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = super().as_sql(compiler, connection)
        return f"(1 - {sql})", params


# --- The k-nearest fast path -------------------------------------------------------------------------

#: metric -> (expression, ordering sign): closest first
_NEAREST = {
    "EUCLIDEAN_DISTANCE": (EuclideanDistance, ""),
    "DOT_PRODUCT": (DotProduct, "-"),
    "COSINE": (CosineDistance, ""),
}


def _plain_attribute(model: type[models.Model], attname: str) -> bool:
    """Whether ``setattr(obj, attname, v)`` on a new instance only stores ``v`` in ``obj.__dict__``
    (no descriptor of the field, Django's DeferredAttribute, or a foreign key's id attribute, whose
    ``__set__`` only clears a related object a new instance has not cached)."""
    for klass in model.__mro__:
        if attname in klass.__dict__:
            attr = klass.__dict__[attname]
            return type(attr) is ForeignKeyDeferredAttribute or not hasattr(type(attr), "__set__")
    return True


class _Plan:
    """A compiled k-nearest query: its SQL (one parameter, the query vector) and how to build rows."""

    __slots__ = (
        "annotation_converters",
        "annotation_pos",
        "attnames",
        "converters",
        "direct",
        "model_end",
        "model_start",
        "sql",
        "vector_format",
    )

    def __init__(self, compiler: Any, sql: str, vector_format: str) -> None:
        self.sql = sql
        self.vector_format = vector_format
        info = compiler.klass_info
        positions = info["select_fields"]
        self.model_start, self.model_end = positions[0], positions[-1] + 1
        self.attnames = tuple(compiler.select[i][0].target.attname for i in positions)
        self.annotation_pos = next(iter(compiler.annotation_col_map.values()))
        converters = compiler.get_converters([s[0] for s in compiler.select])
        # the annotation's own converters apart: a row needs no list copy when only it has some
        self.annotation_converters = converters.pop(self.annotation_pos, ([], None))
        self.converters = list(converters.items())
        model = compiler.query.model
        # Build instances without Model.__init__ (see VectorManager.nearest) only where that is what
        # Model.from_db would do: neither from_db nor __init__ overridden, every attribute plain.
        self.direct = (
            model.from_db.__func__ is models.Model.from_db.__func__
            and model.__init__ is models.Model.__init__
            and not model._meta.abstract
            and all(_plain_attribute(model, name) for name in self.attnames)
        )


def _fetch_rows(connection: Any, sql: str, params: tuple[Any, ...]) -> Any:
    """The rows of one read statement, for ``nearest()``.

    Where the connection's ``cursor()`` is Django's own and neither an execute wrapper nor the query
    log is on, the statement runs on a backend cursor kept on the connection for its current driver
    connection (a new one after a reconnect), with the checks ``cursor()`` and Django's
    ``CursorWrapper.execute`` make: thread sharing, health check, connect, broken transaction,
    Django's exception types, the backend's error mapping and statement count (its parameter check is
    not needed: the one parameter is the vector's text). Opening and closing a cursor per query, and
    the wrappers' layers, were about a third of the k-NN overhead (benchmarks/knn.py). Otherwise:
    Django's cursor, as any query.
    """
    keeps = _KEEPS_CURSOR.get(type(connection))
    if keeps is None:
        keeps = _KEEPS_CURSOR[type(connection)] = _keeps_cursor(type(connection))
    if not keeps or connection.execute_wrappers or connection.queries_logged:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    return _fetch_rows_kept(connection, sql, params)


@async_unsafe  # as Django's cursor()
def _fetch_rows_kept(connection: Any, sql: str, params: tuple[Any, ...]) -> Any:
    connection.validate_thread_sharing()
    connection.close_if_health_check_failed()
    if connection.connection is None:
        connection.ensure_connection()
    kept = connection.__dict__.get(_KEPT_CURSOR)
    if kept is None or kept[0] is not connection.connection:
        with connection.wrap_database_errors:
            kept = connection.__dict__[_KEPT_CURSOR] = (connection.connection, connection.create_cursor())
    cursor = kept[1]  # the backend's CursorWrapper; its driver cursor runs the statement
    connection.validate_no_broken_transaction()
    try:
        cursor.cursor.execute(sql, params)
        rows = cursor.cursor.fetchall()
    except Exception as exc:  # what the two wrappers would make of it: the backend's, then Django's
        with connection.wrap_database_errors:
            cursor.raise_mapped(exc, sql, params)
    if cursor.on_statement is not None:
        cursor.on_statement()
    return rows


#: the DatabaseWrapper attribute holding (driver connection, backend cursor) for `_fetch_rows`
_KEPT_CURSOR = "_singlestore_kept_cursor"
#: DatabaseWrapper class -> whether `_fetch_rows` keeps a cursor on its connections
_KEEPS_CURSOR: dict[type, bool] = {}


def _keeps_cursor(wrapper: type) -> bool:
    """This sync backend's wrapper (or a subclass) whose ``cursor()`` is Django's own: the async engine
    routes ``cursor()`` through its event loop guard, so its queries take Django's cursor."""
    from django_singlestore.base import DatabaseWrapper  # base imports this module (via validation)

    return issubclass(wrapper, DatabaseWrapper) and wrapper.cursor is BaseDatabaseWrapper.cursor


class VectorManager(models.Manager):
    """``objects = VectorManager()`` adds ``nearest()``: the k nearest rows with the SQL compiled once.

    ``Model.objects.nearest("embedding", q, k=10)`` returns what
    ``qs.only(*fields).annotate(distance=EuclideanDistance("embedding", q)).order_by("distance")[:k]``
    returns (model instances with ``distance`` set), without Django compiling the same query again for
    every vector: the compiled SQL is kept per (manager, model, alias, field, metric, k, fields). Use the
    queryset form for anything else (filters, joins): ``nearest()`` covers the manager's whole queryset.
    ``fields`` defaults to every concrete field except the VectorFields (parsing them is per row work).

    Rows become instances the way ``Model.from_db`` makes them; when the model overrides neither
    ``from_db`` nor ``__init__``, has no ``pre_init``/``post_init`` receivers and no field attribute
    with a setter of its own, the instance's ``__dict__`` and ``_state`` are filled directly (the same
    instance, a fifth of the client CPU of ``Model.__init__``); otherwise ``from_db`` runs.
    """

    _plans: dict[tuple[Any, ...], _Plan] = {}

    def nearest(
        self,
        field: str,
        vector: Any,
        k: int = 10,
        *,
        metric: str = "EUCLIDEAN_DISTANCE",
        fields: Sequence[str] | None = None,
        annotation: str = "distance",
        using: str | None = None,
    ) -> list[Any]:
        model = self.model
        alias = using or router.db_for_read(model)
        if isinstance(vector, QueryVector):
            query: QueryVector | None = vector
            dimensions, element_type = vector.dimensions, vector.element_type
        else:  # a plain vector: encoded below with the plan's format, as QueryVector would
            query = None
            if _is_array(vector):
                vector = vector.tolist()
            elif not isinstance(vector, list | tuple):
                vector = list(vector)
            dimensions, element_type = len(vector), "F32"
        key = (
            type(self),
            model,
            alias,
            field,
            metric,
            k,
            None if fields is None else tuple(fields),
            annotation,
            dimensions,
            element_type,
        )
        plan = self._plans.get(key)
        if plan is None:
            if query is None:
                query = QueryVector(vector)  # its checks: at least one element, numbers, no NaN
            try:
                expression, sign = _NEAREST[metric.upper()]
            except KeyError:
                raise ValueError(
                    f"nearest(): metric must be one of {', '.join(_NEAREST)}; got {metric!r}."
                ) from None
            names = (
                list(fields)
                if fields is not None
                else [f.name for f in model._meta.concrete_fields if not isinstance(f, VectorField)]
            )
            qs = (
                self.get_queryset()
                .using(alias)
                .only(*names)
                .annotate(**{annotation: expression(field, query)})
                .order_by(sign + annotation)[:k]
            )
            compiler = qs.query.get_compiler(alias)
            sql, params = compiler.as_sql()
            if list(params) != [query.json]:  # a manager whose queryset adds parameters: no plan
                return list(qs)
            plan = self._plans[key] = _Plan(compiler, sql, _formatter(element_type, dimensions))
        # a plain vector: QueryVector's encoding and checks, without building one
        text = query.json if query is not None else _query_vector_text(plan.vector_format, vector)
        connection = connections[alias]
        rows = _fetch_rows(connection, plan.sql, (text,))
        attnames, start, end, pos, converters = (
            plan.attnames,
            plan.model_start,
            plan.model_end,
            plan.annotation_pos,
            plan.converters,
        )
        annotation_convs, annotation_expr = plan.annotation_converters
        direct = plan.direct and not (pre_init.has_listeners(model) or post_init.has_listeners(model))
        new = model.__new__
        out = []
        for row in rows:
            if converters:
                row = list(row)
                for i, (convs, expr) in converters:
                    value = row[i]
                    for conv in convs:
                        value = conv(value, expr, connection)
                    row[i] = value
            value = row[pos]
            for conv in annotation_convs:
                value = conv(value, annotation_expr, connection)
            if direct:
                obj = new(model)
                state = ModelState()
                state.adding = False
                state.db = alias
                obj._state = state
                obj.__dict__.update(zip(attnames, row[start:end], strict=True))
            else:
                obj = model.from_db(alias, attnames, row[start:end])
            setattr(obj, annotation, value)
            out.append(obj)
        return out

    async def anearest(self, field: str, vector: Any, k: int = 10, **kwargs: Any) -> list[Any]:
        """``nearest()`` for async code: through the same ``sync_to_async`` as Django's own ``a*`` queryset
        methods, so it runs natively on a ``django_singlestore_async`` alias whose native path is on."""
        from django.db import router
        from django.db.models import query as django_query  # its sync_to_async is the routed one

        using = kwargs.pop("using", None) or router.db_for_read(self.model)
        return await django_query.sync_to_async(self.nearest)(field, vector, k, using=using, **kwargs)


# --- Index -----------------------------------------------------------------------------------------


class VectorIndex(models.Index):
    """``VECTOR INDEX name (col) INDEX_OPTIONS '{"index_type": ..., "metric_type": ...}'``."""

    suffix = "vec"

    def __init__(
        self,
        *,
        fields: Sequence[str] = (),
        name: str | None = None,
        index_type: str | None = None,
        metric: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        if index_type is not None and index_type.upper() not in INDEX_TYPES:
            raise ValueError(
                f"VectorIndex index_type must be one of {', '.join(INDEX_TYPES)}; got {index_type!r}."
            )
        if metric is not None and metric.upper() not in METRICS:
            raise ValueError(f"VectorIndex metric must be one of {', '.join(METRICS)}; got {metric!r}.")
        super().__init__(fields=list(fields), name=name)
        self.index_type = index_type.upper() if index_type else None
        self.metric = metric.upper() if metric else None
        self.options = dict(options or {})

    def index_options(self) -> str | None:
        """The INDEX_OPTIONS JSON text (None: the server's defaults)."""
        opts: dict[str, Any] = {}
        if self.index_type:
            opts["index_type"] = self.index_type
        if self.metric:
            opts["metric_type"] = self.metric
        opts.update(self.options)
        return json.dumps(opts, separators=(",", ":"), sort_keys=False) if opts else None

    def deconstruct(self) -> Any:
        path, args, kwargs = super().deconstruct()
        path = f"{self.__class__.__module__}.{self.__class__.__name__}"
        for key in ("index_type", "metric"):
            if getattr(self, key):
                kwargs[key] = getattr(self, key)
        if self.options:
            kwargs["options"] = dict(self.options)
        return path, args, kwargs

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Statement:
        table = model._meta.db_table
        columns = [model._meta.get_field(name).column for name, _ in self.fields_orders]
        options = self.index_options()
        return Statement(
            "ALTER TABLE %(table)s ADD VECTOR INDEX %(name)s (%(columns)s)%(extra)s",
            table=Table(table, schema_editor.quote_name),
            name=schema_editor.quote_name(self.name),
            columns=Columns(table, columns, schema_editor.quote_name),
            extra="" if options is None else " INDEX_OPTIONS " + schema_editor.quote_value(options),
        )


def vector_index_issues(
    model: type[models.Model], rowstore: bool, version: tuple[int, ...] | None = None
) -> list[checks.CheckMessage]:
    """singlestore.E006-E008 and W004 for the VectorIndexes of ``model`` (see the module docstring)."""
    label = model._meta.label
    issues: list[checks.CheckMessage] = []
    for index in model._meta.indexes:
        if not isinstance(index, VectorIndex):
            continue
        name = index.name or "VectorIndex"
        if rowstore:
            issues.append(
                checks.Error(
                    f"{label}: the vector index {name!r} is on a rowstore table; SingleStore builds vector "
                    f"indexes on columnstore tables only.",
                    hint="Use the columnstore default storage for this model, or drop the index (exact "
                    "k-nearest searches need none).",
                    obj=model,
                    id="singlestore.E006",
                )
            )
        if len(index.fields) != 1:
            issues.append(
                checks.Error(
                    f"{label}: the vector index {name!r} has {len(index.fields)} columns; SingleStore's "
                    f"vector index is on exactly one column.",
                    hint="One VectorIndex per VectorField.",
                    obj=model,
                    id="singlestore.E007",
                )
            )
            continue
        try:
            field = model._meta.get_field(index.fields[0])
        except exceptions.FieldDoesNotExist:
            continue  # Django's own check (models.E012) reports it
        if not isinstance(field, VectorField) or field.element_type != "F32":
            what = (
                f"VECTOR({field.dimensions}, {field.element_type})"
                if isinstance(field, VectorField)
                else (type(field).__name__)
            )
            issues.append(
                checks.Error(
                    f"{label}: the vector index {name!r} is on {field.name!r}, a {what}; SingleStore "
                    f"indexes VECTOR(<N>, F32) columns only.",
                    hint="Index a VectorField with element_type='F32' (the default).",
                    obj=model,
                    id="singlestore.E008",
                )
            )
        elif field.null and (version is None or version < (8, 7)):
            issues.append(
                checks.Warning(
                    f"{label}: the vector index {name!r} is on the nullable column {field.name!r}; "
                    f"SingleStore 8.5 requires NOT NULL for a vector index column.",
                    hint="Make the field null=False (later releases accept NULL: the 8.7 boundary is "
                    "an assumption, the 8.5 docs say NOT NULL).",
                    obj=model,
                    id="singlestore.W004",
                )
            )
    return issues
