"""SingleStore full-text search in the ORM: the index, MATCH ... AGAINST, BM25 and the flush.

    from django_singlestore.search import BM25, FullTextIndex, FullTextManager, Match

    class Article(models.Model):
        title = models.CharField(max_length=200)
        body = models.TextField()
        objects = FullTextManager()

        class Meta:
            indexes = [FullTextIndex(fields=["title", "body"], name="article_ft")]

    Article.objects.filter(Match(query="database"))                        # WHERE MATCH ... AGAINST
    Article.objects.annotate(score=Match(query="+sql database*")).order_by("-score")
    Article.objects.filter(body__match='"business intelligence"')           # one column
    Article.objects.annotate(score=BM25("body", query="database"))          # VERSION 2 only
    Article.objects.flush_fulltext()                                         # OPTIMIZE TABLE t FLUSH

SingleStore facts this module follows [doc: docs.singlestore.com "Working with Full-Text Search",
".../full-text-search-functions/match", ".../bm-25", ".../optimize-table"]:

* A FULLTEXT index exists on columnstore tables only, one per table, over text columns (CHAR, VARCHAR,
  TEXT, LONGTEXT, JSON). It can be added to an existing table (``ALTER TABLE t ADD FULLTEXT``, 8.1+) and
  dropped (``DROP INDEX name ON t``). System checks singlestore.E010 to E012 refuse the other shapes.
* ``USING VERSION 2`` (Lucene-compatible, BM25-scored) is written when the server has it (8.7 on: the
  first release whose docs describe it); older servers get the legacy (version 1) index.
  ``FullTextIndex(version=1|2)`` pins it. To move a table from version 1 to 2, change ``version`` in a
  migration: the index is dropped and added again.
* Version 2 searches a whole table: ``MATCH (TABLE t) AGAINST ('query')``; columns are named inside the
  query (``title:database``). Version 1 names the columns: ``MATCH (title, body) AGAINST ('query')``.
  ``Match`` and the ``__match`` lookup write the form of the model's index version.
* New rows reach the index when the columnstore's hidden rowstore segment is flushed (in the background,
  or by ``OPTIMIZE TABLE t FLUSH``): right after a write, a search may miss the new rows. Call
  ``flush_fulltext_index(Model)`` / ``Model.objects.flush_fulltext()`` (or the ``a``-prefixed async
  forms) after bulk loads and in tests before searching what was just written.

The query string is SingleStore's, passed as a parameter; the supported subset is in the README
("Full-text search"): terms, ``"phrases"``, ``+required``, ``-excluded``, ``AND``/``OR``/``NOT``,
trailing-``*`` prefixes, ``field:term`` / ``field:(...)`` (version 2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.db import NotSupportedError, connections, models, router
from django.db.backends.ddl_references import Columns, Statement, Table
from django.db.models import CharField, Expression, FloatField, Index, Lookup, TextField
from django.db.models.expressions import Col
from django.db.models.lookups import Exact
from django.db.models.signals import class_prepared
from django.db.models.sql.query import Query

__all__ = [
    "BM25",
    "FULLTEXT_VERSION_2_SINCE",
    "BM25Global",
    "FullTextIndex",
    "FullTextManager",
    "FullTextQuerySet",
    "Match",
    "MatchLookup",
    "aflush_fulltext_index",
    "flush_fulltext_index",
    "fulltext_index",
    "fulltext_version",
    "scoped_query",
]

#: The first SingleStore release whose documentation has ``FULLTEXT USING VERSION 2``.
FULLTEXT_VERSION_2_SINCE: tuple[int, int] = (8, 7)
#: Text column types a FULLTEXT index takes [doc: "Working with Full-Text Search"].
FULLTEXT_FIELD_TYPES: tuple[type[models.Field[Any, Any]], ...] = (
    models.CharField,
    models.TextField,
    models.JSONField,
)


class FullTextIndex(Index):
    """``FULLTEXT [USING VERSION 2] name (columns)``: the table's one full-text index.

    ``version``: None (the default) writes version 2 where the server has it (8.7+), else version 1; 1 or 2
    pins it. Created with ``ALTER TABLE t ADD FULLTEXT ...`` after CREATE TABLE (documented from 8.1 on;
    the backend supports 8.5+), dropped with ``DROP INDEX name ON t``.
    """

    suffix = "ftx"
    sql_create_fulltext = "ALTER TABLE %(table)s ADD FULLTEXT%(version)s %(name)s (%(columns)s)"

    def __init__(self, *, fields: Sequence[str], name: str | None = None, version: int | None = None) -> None:
        if version not in (None, 1, 2):
            raise ValueError(f"FullTextIndex.version must be None, 1 or 2, not {version!r}.")
        if not fields:
            raise ValueError("FullTextIndex needs at least one field.")
        super().__init__(fields=list(fields), name=name)
        self.version = version

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        path = f"{self.__class__.__module__}.{self.__class__.__name__}"
        kwargs: dict[str, Any] = {"fields": list(self.fields), "name": self.name}
        if self.version is not None:
            kwargs["version"] = self.version
        return path, (), kwargs

    def columns(self, model: type[models.Model]) -> list[str]:
        return [model._meta.get_field(name).column for name in self.fields]

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Statement:
        quote = schema_editor.quote_name
        table = model._meta.db_table
        version = fulltext_version(schema_editor.connection, self)
        return Statement(
            self.sql_create_fulltext,
            table=Table(table, quote),
            version=" USING VERSION 2" if version == 2 else "",
            name=quote(self.name),
            columns=Columns(table, self.columns(model), quote),
        )


def fulltext_index(model: type[models.Model]) -> FullTextIndex | None:
    """The model's FullTextIndex (SingleStore allows one per table; check singlestore.E011)."""
    return next((i for i in model._meta.indexes if isinstance(i, FullTextIndex)), None)


def fulltext_version(connection: Any, index: FullTextIndex | None = None) -> int:
    """The index version the backend writes and queries on ``connection``: the index's own, else 2 on
    servers from 8.7 on, else 1."""
    if index is not None and index.version is not None:
        return index.version
    return 2 if tuple(connection.get_database_version()[:2]) >= FULLTEXT_VERSION_2_SINCE else 1


_FIELD_SCOPED = re.compile(r"(?<![\w\"\\])[A-Za-z_]\w*:(?![:>])")


def scoped_query(query: str, columns: Sequence[str]) -> str:
    """``query`` limited to ``columns`` in version 2's syntax: ``col:(query)``, or ``(a:(query) OR
    b:(query))`` for several. A query that already names fields (``title:x``) is left as written."""
    if _FIELD_SCOPED.search(query) or not columns:
        return query
    parts = [f"{column}:({query})" for column in columns]
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _require_singlestore(connection: Any, what: str) -> None:
    if getattr(connection, "vendor", None) != "mysql" or not hasattr(connection, "singlestore_server_data"):
        raise NotSupportedError(
            f"{what} is SingleStore full-text search: it needs a django_singlestore alias."
        )


class _ScoreExact(Exact):
    """``exact`` on a score keeps a boolean right-hand side as is, so ``filter(Match(...))`` (which Django
    builds as ``exact=True``) compiles to ``WHERE MATCH (...) AGAINST (...)`` (operations.py) instead of
    comparing the score with 1.0."""

    prepare_rhs = False


def quote_alias(compiler: Any, name: str) -> str:
    """A table alias or column quoted as the compiler quotes it: ``quote_name`` from Django 6.1 on,
    ``quote_name_unless_alias`` (deprecated there) before it."""
    quote = getattr(compiler, "quote_name", None) or compiler.quote_name_unless_alias
    return quote(name)


class _FullTextExpression(Expression):
    """A relevance score over the model's FULLTEXT index (float; 0 = no match)."""

    #: WHERE takes the expression itself, as SingleStore's docs write it (operations.py).
    full_text_search = True
    conditional = True
    function = ""

    def __init__(self, *fields: str, query: str) -> None:
        super().__init__(output_field=FloatField())
        if not isinstance(query, str):
            raise TypeError(f"{type(self).__name__}(query=...) takes a string, not {type(query).__name__}.")
        self.fields = tuple(fields)
        self.query = query
        self.model: type[models.Model] | None = None
        self.alias: str | None = None
        self.columns: tuple[str, ...] = ()

    def __repr__(self) -> str:
        fields = "".join(f"{f!r}, " for f in self.fields)
        return f"{type(self).__name__}({fields}query={self.query!r})"

    def get_source_expressions(self) -> list[Any]:
        return []

    def get_lookup(self, lookup: str) -> Any:
        return _ScoreExact if lookup == "exact" else super().get_lookup(lookup)

    def resolve_expression(
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        if not isinstance(query, Query) or query.model is None:
            raise TypeError(f"{type(self).__name__} is resolved against a model's queryset.")
        resolved = self.copy()
        resolved.model = query.model
        resolved.alias = query.get_initial_alias()
        index = fulltext_index(query.model)
        if index is None:
            raise NotSupportedError(
                f"{query.model._meta.label} has no FullTextIndex in Meta.indexes: "
                f"{type(self).__name__}() searches the model's full-text index."
            )
        opts = query.model._meta
        names = self.fields or tuple(index.fields)
        missing = [n for n in names if n not in index.fields]
        if missing:
            raise NotSupportedError(
                f"{type(self).__name__}: {', '.join(missing)} not in {opts.label}'s FullTextIndex {index.fields}."
            )
        resolved.columns = tuple(opts.get_field(n).column for n in names)
        return resolved

    def _index(self) -> FullTextIndex:
        assert self.model is not None, "resolve_expression first"
        index = fulltext_index(self.model)
        assert index is not None
        return index

    def _table(self, compiler: Any) -> str:
        assert self.alias is not None
        return quote_alias(compiler, self.alias)


class Match(_FullTextExpression):
    """``MATCH (TABLE t) AGAINST (query)`` (version 2) or ``MATCH (cols) AGAINST (query)`` (version 1).

    ``Match(query=...)`` searches every column of the index; ``Match("title", query=...)`` only those
    named (version 2: the query becomes ``title:(query)``). Annotate with it to order by relevance, or
    filter with it (``filter(Match(query=...))``: the rows it matches).
    """

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        _require_singlestore(connection, "Match()")
        if fulltext_version(connection, self._index()) == 2:
            query = scoped_query(self.query, self.columns) if self.fields else self.query
            return f"MATCH (TABLE {self._table(compiler)}) AGAINST (%s)", [query]
        table = self._table(compiler)
        cols = ", ".join(f"{table}.{quote_alias(compiler, c)}" for c in self.columns)
        return f"MATCH ({cols}) AGAINST (%s)", [self.query]


class BM25(_FullTextExpression):
    """``BM25(t, 'col:(query)')``: the partition-level BM25 score (version 2 indexes only). Without
    fields the query is scoped to every column of the index (``(a:(q) OR b:(q))``)."""

    function = "BM25"

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        _require_singlestore(connection, f"{self.function}()")
        if fulltext_version(connection, self._index()) != 2:
            raise NotSupportedError(
                f"{self.function}() needs a FULLTEXT USING VERSION 2 index (SingleStore 8.7+); "
                f"{self.model._meta.label if self.model else 'the model'}'s index is version 1."
            )
        return f"{self.function}({self._table(compiler)}, %s)", [scoped_query(self.query, self.columns)]


class BM25Global(BM25):
    """``BM25_GLOBAL(t, 'col:(query)')``: BM25 over the whole table's statistics (more exact and more
    expensive than ``BM25``; documented from 8.9 on)."""

    function = "BM25_GLOBAL"


class MatchLookup(Lookup):
    """``field__match="query"``: the rows whose column matches (MATCH over that column alone)."""

    lookup_name = "match"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        _require_singlestore(connection, "__match")
        lhs = self.lhs
        if not isinstance(lhs, Col) or not isinstance(self.rhs, str):
            raise NotSupportedError("__match takes a model's text field and a query string.")
        model = lhs.target.model
        index = fulltext_index(model)
        if index is None or lhs.target.name not in index.fields:
            raise NotSupportedError(
                f"{model._meta.label}.{lhs.target.name}__match needs the field in the model's FullTextIndex."
            )
        table = quote_alias(compiler, lhs.alias)
        if fulltext_version(connection, index) == 2:
            return f"MATCH (TABLE {table}) AGAINST (%s)", [scoped_query(self.rhs, [lhs.target.column])]
        lhs_sql, lhs_params = compiler.compile(lhs)
        return f"MATCH ({lhs_sql}) AGAINST (%s)", [*lhs_params, self.rhs]


def register_match_lookups(sender: type[models.Model], **kwargs: Any) -> None:
    """``__match`` on the fields of a model's FullTextIndex only (lookups registered on the field
    instances): registered on every CharField and TextField, it would be a lookup that fails for
    every other field (Django's suite, for one, applies each registered CharField lookup to a
    subquery)."""
    index = fulltext_index(sender)
    if index is None:
        return
    for name in index.fields:
        field = sender._meta.get_field(name)
        if isinstance(field, CharField | TextField) and "match" not in field.get_lookups():
            field.register_lookup(MatchLookup)


class_prepared.connect(register_match_lookups, dispatch_uid="django_singlestore.search.match_lookups")


# --- the flush -------------------------------------------------------------------------------------------


def _flush_sql(model: type[models.Model], connection: Any) -> str:
    return f"OPTIMIZE TABLE {connection.ops.quote_name(model._meta.db_table)} FLUSH"


def flush_fulltext_index(model: type[models.Model], using: str | None = None) -> None:
    """``OPTIMIZE TABLE t FLUSH``: make the rows written so far searchable (SingleStore indexes a
    columnstore segment when it is flushed from the hidden rowstore; see the module docstring)."""
    connection = connections[using or router.db_for_write(model)]
    _require_singlestore(connection, "flush_fulltext_index()")
    with connection.cursor() as cursor:
        cursor.execute(_flush_sql(model, connection))


async def aflush_fulltext_index(model: type[models.Model], using: str | None = None) -> None:
    """The async ``flush_fulltext_index``: on the pool of an async alias, else in a thread."""
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    _require_singlestore(connection, "aflush_fulltext_index()")
    if hasattr(connection, "acursor"):  # django_singlestore_async: a pooled connection on the loop
        async with connection.acursor() as cursor:
            await cursor.execute(_flush_sql(model, connection))
        return
    await sync_to_async(flush_fulltext_index)(model, alias)


class FullTextQuerySet(models.QuerySet):
    """A QuerySet with the flush of its model's full-text index."""

    def flush_fulltext(self) -> None:
        flush_fulltext_index(self.model, using=self.db)

    async def aflush_fulltext(self) -> None:
        await aflush_fulltext_index(self.model, using=self.db)


class FullTextManager(models.Manager.from_queryset(FullTextQuerySet)):  # type: ignore[misc]
    """``objects = FullTextManager()``: ``Model.objects.flush_fulltext()`` / ``aflush_fulltext()``."""
