"""SingleStore full-text search on MariaDB: FULLTEXT DDL, MATCH / BM25 queries and the flush.

``FULLTEXT_TRANSLATIONS`` is the one documented table; each row names the semantic difference. The
rules (columnstore only, one index per table) are in ``check_*`` below with SingleStore's texts
(``errors.ERRORS["fulltext_*"]``, assumptions marked there).

How it works. MariaDB's InnoDB FULLTEXT index answers ``MATCH (cols) AGAINST ('...' IN BOOLEAN MODE)``
only for the exact column list of one of the table's FULLTEXT indexes. SingleStore's version 2 names
columns inside the query (``title:database``), so for an index over several columns the gateway also
creates one hidden single-column FULLTEXT index per column (``__s2gw_ft_<n>``), kept out of SHOW CREATE
TABLE and SHOW INDEX. A query string is parsed into Lucene's boolean structure (the subset below); each
term, prefix or phrase becomes one ``MATCH (<its columns>) AGAINST ('<term>' IN BOOLEAN MODE)`` and the
clauses combine as Lucene combines them (MUST / SHOULD / MUST_NOT), so the result is a score that is 0
exactly for the rows that do not match.

The private MariaDB indexes every token (``innodb_ft_min_token_size=1``) and keeps stopwords
(``innodb_ft_enable_stopword=OFF``): tests/testbed/mariadb.py.

Emulated query syntax (version 2's Lucene syntax [doc: working-with-full-text-search, match, bm-25];
the legacy syntax is read the same way):

* ``word`` (optional: SHOULD), ``+word`` (MUST), ``-word`` / ``!word`` / ``NOT word`` (MUST_NOT);
  ``a AND b`` makes both MUST, ``a OR b`` is the default; Lucene's QueryParser rules for mixing them.
* ``"a phrase"``; ``prefix*`` (a trailing ``*`` only);
* ``column:word``, ``column:"phrase"``, ``column:(clauses)``; ``(clauses)`` groups; a term without a
  column searches every column of the index.

Anything else (``~`` fuzzy/proximity, ``^`` boosts, ``?`` and inner/leading wildcards, ranges, regular
expressions, escapes, ``&&`` / ``||``) is refused with ``fulltext_query_gateway_limit``, naming the
construct: the gateway never answers a query it would answer differently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.testbed.gateway.catalog import TableInfo
from tests.testbed.gateway.ddl import HIDDEN_FULLTEXT_PREFIX as HIDDEN_PREFIX
from tests.testbed.gateway.ddl import CreateTable, KeyDef, hidden_index_clauses
from tests.testbed.gateway.errors import GatewayError
from tests.testbed.gateway.sqllex import (
    Token,
    apply_edits,
    ident_value,
    is_ident,
    is_kw,
    matching_paren,
    parse_qualified_name,
    quote_ident,
    split_top_level_commas,
    string_value,
)

__all__ = [
    "FULLTEXT_TRANSLATIONS",
    "HIDDEN_PREFIX",
    "FullTextTranslation",
    "check_alter_fulltext",
    "check_create_fulltext",
    "hidden_index_clauses",
    "parse_query",
    "rewrite_flush",
    "rewrite_search",
]


@dataclass(frozen=True)
class FullTextTranslation:
    singlestore: str
    mariadb: str
    difference: str


FULLTEXT_TRANSLATIONS: tuple[FullTextTranslation, ...] = (
    FullTextTranslation(
        "FULLTEXT [USING VERSION 1|2] [KEY] name (a, b, ...) in CREATE TABLE / ALTER TABLE ADD",
        "FULLTEXT name (a, b, ...) plus, for two or more columns, FULLTEXT `__s2gw_ft_<n>` (col) per column; "
        "the version is kept in the catalog",
        "MariaDB's tokenizer and InnoDB's index instead of Lucene's standard analyzer: no stemming either "
        "way, but tokens split differently on punctuation (Lucene keeps 'e-mail' parts as a phrase). The "
        "hidden indexes show in information_schema.STATISTICS (not in SHOW CREATE TABLE / SHOW INDEX). "
        "Case-insensitive only on case-insensitive collations (SingleStore's search always is).",
    ),
    FullTextTranslation(
        "SHOW CREATE TABLE of a table with a FULLTEXT index",
        "MariaDB's `FULLTEXT KEY name (cols)` line, as `FULLTEXT USING VERSION 2 KEY name (cols)` for "
        "version 2 ([obs] SHOW CREATE TABLE output in public repositories); hidden indexes left out",
        "None for the key line; its position among the keys follows MariaDB.",
    ),
    FullTextTranslation(
        "DROP INDEX name ON t / ALTER TABLE t DROP INDEX name  (the FULLTEXT index)",
        "ALTER TABLE t DROP INDEX name, DROP INDEX `__s2gw_ft_<n>` ...",
        "None.",
    ),
    FullTextTranslation(
        "MATCH (TABLE t) AGAINST ('query')  (version 2)",
        "IF(<condition>, <score>, 0) where each term is MATCH (t.cols) AGAINST ('term' IN BOOLEAN MODE); "
        "the condition follows Lucene's MUST / SHOULD / MUST_NOT; the score is the sum of the matched "
        "terms' InnoDB ranks",
        "Relevance is InnoDB's TF-IDF rank (per index: a column-scoped term is ranked by its hidden "
        "single-column index), not BM25 over segments, so scores differ in value and may order "
        "near-ties differently; rows that match and rows that do not are the same for the emulated "
        "syntax. A MATCH sees committed rows only (InnoDB reads its index cache, but not the "
        "transaction's own uncommitted rows); SingleStore sees flushed segments (OPTIMIZE TABLE FLUSH).",
    ),
    FullTextTranslation(
        "MATCH (a, b) AGAINST ('query')  (legacy syntax, the index's columns or one of them)",
        "as above, with a term without a column searching the MATCH columns",
        "As above. Version 1's own operators beyond the subset are refused.",
    ),
    FullTextTranslation(
        "BM25(t, 'query') / BM25_GLOBAL(t, 'query')  (version 2)",
        "the same expression as MATCH (TABLE t)",
        "Both are InnoDB's rank: the partition (BM25) and table (BM25_GLOBAL) statistics of SingleStore "
        "are one table here, so the two give the same value; ordering by them follows term frequency and "
        "rarity like BM25 but without BM25's length normalisation and saturation.",
    ),
    FullTextTranslation(
        "OPTIMIZE TABLE t FLUSH",
        "DO (SELECT 1 FROM t LIMIT 0): an OK, or MariaDB's own error for a missing table",
        "Nothing to flush: InnoDB's MATCH already sees every committed row. The flush's other effect "
        "(moving rows to columnstore segments) has no MariaDB counterpart.",
    ),
)


# --- DDL ------------------------------------------------------------------------------------------------


def fulltext_fact(key: KeyDef) -> dict[str, object]:
    """The catalog's record of a FULLTEXT key: name (MariaDB's default for an unnamed one: the first
    column), columns and version (SingleStore's default without USING VERSION is 1 [assumption])."""
    return {
        "name": key.name or (key.columns[0] if key.columns else ""),
        "columns": list(key.columns),
        "version": key.version or 1,
    }


def check_create_fulltext(ct: CreateTable) -> None:
    keys = [k for k in ct.keys if k.kind == "fulltext"]
    if keys and ct.storage == "ROWSTORE":
        raise GatewayError("fulltext_rowstore")
    if len(keys) > 1:
        raise GatewayError("fulltext_multiple")


def check_alter_fulltext(keys: list[KeyDef], info: TableInfo) -> None:
    """ALTER TABLE ... ADD FULLTEXT (or CREATE FULLTEXT INDEX) on a catalogued table."""
    if not keys:
        return
    if not info.columnstore:
        raise GatewayError("fulltext_rowstore")
    if info.fulltext is not None or len(keys) > 1:
        raise GatewayError("fulltext_multiple")


# --- the query string ---------------------------------------------------------------------------------


@dataclass
class Term:
    field: str | None
    text: str  # boolean-mode text: word, word*, "a phrase"


@dataclass
class Group:
    clauses: list[tuple[str, Term | Group]] = field(default_factory=list)  # (occur, node); occur: + - ?


_WORD = re.compile(r"\w+", re.UNICODE)
_SPECIAL = {"~": "'~' (fuzzy or proximity search)", "^": "'^' (boost)", "?": "'?' (single-character wildcard)",
            "[": "'[' (range)", "{": "'{' (range)", "/": "'/' (regular expression)", "\\": "'\\\\' (escape)",
            "&": "'&&'", "|": "'||'", "*": "'*' not at the end of a term", ":": "':' without a column before it",
            "}": "'}' (range)", "]": "']' (range)"}  # fmt: skip


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def limit(self, construct: str) -> GatewayError:
        return GatewayError("fulltext_query_gateway_limit", construct=construct)

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def group(self, default_field: str | None, closing: bool) -> Group:
        group = Group()
        conj = ""
        while True:
            self.skip_ws()
            ch = self.peek()
            if ch == "":
                if closing:
                    raise self.limit("'(' without ')'")
                break
            if ch == ")":
                if not closing:
                    raise self.limit("')' without '('")
                self.pos += 1
                break
            word = _WORD.match(self.text, self.pos)
            if word and word.group() in ("AND", "OR") and self._is_operator_word(word.end()):
                if not group.clauses:
                    raise self.limit(f"'{word.group()}' with nothing before it")
                conj = word.group()
                self.pos = word.end()
                continue
            modifier = ""
            if ch in "+-!":
                modifier = "-" if ch in "-!" else "+"
                self.pos += 1
            elif word and word.group() == "NOT" and self._is_operator_word(word.end()):
                modifier = "-"
                self.pos = word.end()
                self.skip_ws()
            node = self.clause(default_field)
            self._add(group, conj, modifier, node)
            conj = ""
        if conj:
            raise self.limit(f"'{conj}' with nothing after it")
        return group

    def _is_operator_word(self, end: int) -> bool:
        return end >= len(self.text) or self.text[end].isspace() or self.text[end] in '("+-!'

    @staticmethod
    def _add(group: Group, conj: str, modifier: str, node: Term | Group) -> None:
        """Lucene's QueryParser.addClause with OR as the default operator."""
        if conj == "AND" and group.clauses and group.clauses[-1][0] != "-":
            group.clauses[-1] = ("+", group.clauses[-1][1])
        occur = modifier or ("+" if conj == "AND" else "?")
        group.clauses.append((occur, node))

    def clause(self, default_field: str | None) -> Term | Group:
        ch = self.peek()
        column = default_field
        word = _WORD.match(self.text, self.pos)
        if word and word.end() < len(self.text) and self.text[word.end()] == ":":
            column = word.group()
            self.pos = word.end() + 1
            ch = self.peek()
            word = _WORD.match(self.text, self.pos)
        if ch == "(":
            self.pos += 1
            return self.group(column, closing=True)
        if ch == '"':
            end = self.text.find('"', self.pos + 1)
            if end < 0:
                raise self.limit("an unclosed '\"'")
            words = _WORD.findall(self.text[self.pos + 1 : end])
            if not words:
                raise self.limit("an empty phrase")
            self.pos = end + 1
            self._term_end()
            return Term(column, '"' + " ".join(words) + '"')
        if word is None:
            raise self.limit(_SPECIAL.get(ch, repr(ch)))
        self.pos = word.end()
        text = word.group()
        if self.peek() == "*":
            self.pos += 1
            text += "*"
        self._term_end()
        return Term(column, text)

    def _term_end(self) -> None:
        ch = self.peek()
        if ch and not ch.isspace() and ch != ")":
            raise self.limit(_SPECIAL.get(ch, f"{ch!r} inside a term"))


def parse_query(text: str) -> Group:
    """The query string's boolean structure; GatewayError("fulltext_query_gateway_limit") outside the
    emulated subset (module docstring)."""
    return _Parser(text).group(None, closing=False)


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def build_sql(query: Group, qualifier: str, columns: list[str], valid: list[str]) -> str:
    """The MariaDB expression for ``query``: > 0 exactly for matching rows, the sum of the matched
    terms' ranks. ``columns``: what a term without a column searches; ``valid``: columns a term may name
    (each has a single-column FULLTEXT index, or is the only column)."""
    by_lower = {c.lower(): c for c in valid}

    def cols(term: Term) -> str:
        if term.field is None:
            names = columns
        else:
            if term.field.lower() not in by_lower:
                raise GatewayError("fulltext_no_index")
            names = [by_lower[term.field.lower()]]
        return ", ".join(f"{qualifier}.{quote_ident(c)}" for c in names)

    def node(n: Term | Group) -> tuple[str, str]:
        if isinstance(n, Term):
            m = f"MATCH ({cols(n)}) AGAINST ({_literal(n.text)} IN BOOLEAN MODE)"
            return f"({m} > 0)", m
        must = [node(c) for o, c in n.clauses if o == "+"]
        should = [node(c) for o, c in n.clauses if o == "?"]
        must_not = [node(c) for o, c in n.clauses if o == "-"]
        conds = [c for c, _ in must] + [f"NOT {c}" for c, _ in must_not]
        if not must:
            conds.append("(" + " OR ".join(c for c, _ in should) + ")" if should else "FALSE")
        cond = "(" + " AND ".join(conds) + ")"
        scores = [s for _, s in must] + [s for _, s in should]
        return cond, f"IF({cond}, {' + '.join(scores) or '0'}, 0)"

    return node(query)[1]


# --- statements -----------------------------------------------------------------------------------------

Lookup = Callable[[str | None, str], TableInfo | None]
#: Lower-case substrings that mean a statement may hold a full-text construct.
TRIGGERS = ("against", "bm25")


def _table_of(name: str, toks: list[Token], lookup: Lookup) -> tuple[str, TableInfo | None]:
    """(the SQL qualifier to use, the table) for the name in ``MATCH (TABLE name)`` / ``BM25(name, ...)``:
    an alias of the statement's FROM list, or a table name."""
    from tests.testbed.gateway.rules import aliased_table_refs

    refs = aliased_table_refs(toks)
    for db, table, alias in refs:
        if alias is not None and alias == name:
            return quote_ident(alias), lookup(db, table)
    for db, table, alias in refs:
        if table == name:
            return quote_ident(alias or table), lookup(db, table)
    return quote_ident(name), lookup(None, name)


def _search(info: TableInfo | None, construct: str) -> tuple[list[str], list[str]]:
    if info is None or info.fulltext is None:
        raise GatewayError("fulltext_no_index")
    if int(info.fulltext["version"]) != 2:
        raise GatewayError("fulltext_version", construct=construct)
    columns = list(info.fulltext["columns"])
    return columns, columns


def _query_literal(toks: list[Token], a: int, b: int) -> str:
    if b - a != 1 or toks[a].kind != "str":
        raise GatewayError("fulltext_query_gateway_limit", construct="other than one string literal")
    return string_value(toks[a])


def rewrite_search(text: str, toks: list[Token], lookup: Lookup) -> str | None:
    """MATCH ... AGAINST, BM25 and BM25_GLOBAL in ``text`` as MariaDB expressions; None if none."""
    edits: list[tuple[int, int, str]] = []
    for i, tok in enumerate(toks):
        if i + 1 >= len(toks) or toks[i + 1].text != "(" or tok.kind != "word":
            continue
        u = tok.upper
        if u == "MATCH":
            close = matching_paren(toks, i + 1)
            if close + 2 >= len(toks) or not is_kw(toks[close + 1], "AGAINST") or toks[close + 2].text != "(":
                continue
            end = matching_paren(toks, close + 2)
            query = _query_literal(toks, close + 3, end)
            if is_kw(toks[i + 2], "TABLE"):
                qn = parse_qualified_name(toks, i + 3)
                if qn is None:
                    continue
                qualifier, info = _table_of(qn[1], toks, lookup)
                columns, valid = _search(info, "MATCH (TABLE ...)")
            else:
                columns, qualifier, valid = _legacy_columns(toks, i + 2, close, lookup)
            sql = build_sql(parse_query(query), qualifier, columns, valid)
            edits.append((tok.start, toks[end].end, sql))
        elif u in ("BM25", "BM25_GLOBAL"):
            close = matching_paren(toks, i + 1)
            args = split_top_level_commas(toks, i + 2, close)
            if len(args) != 2 or not is_ident(toks[args[0][0]]):
                continue
            qualifier, info = _table_of(ident_value(toks[args[0][0]]), toks, lookup)
            columns, valid = _search(info, u)
            query = _query_literal(toks, *args[1])
            edits.append(
                (tok.start, toks[close].end, build_sql(parse_query(query), qualifier, columns, valid))
            )
    return apply_edits(text, edits) if edits else None


def _legacy_columns(toks: list[Token], a: int, b: int, lookup: Lookup) -> tuple[list[str], str, list[str]]:
    """``MATCH (a, b)``: the columns (all of the index's, or one of them), their qualifier and the columns
    a term may name. Qualified columns (``t.a``) name the table; else the statement's first table with a
    FULLTEXT index holding them."""
    names: list[str] = []
    qualifier: str | None = None
    for x, y in split_top_level_commas(toks, a, b):
        qn = parse_qualified_name(toks, x)
        if qn is None:
            raise GatewayError("fulltext_no_index")
        if qn[2] < y and toks[qn[2]].text == ".":  # db.t.col
            qualifier, names = qn[1], [*names, ident_value(toks[qn[2] + 1])]
        elif qn[0] is not None:
            qualifier, names = qn[0], [*names, qn[1]]
        else:
            names.append(qn[1])
    from tests.testbed.gateway.rules import aliased_table_refs

    candidates = []
    for db, table, alias in aliased_table_refs(toks):
        q = alias or table
        if qualifier is None or qualifier in (q, quote_ident(q)):
            candidates.append((quote_ident(q), lookup(db, table)))
    wanted = sorted(n.lower() for n in names)
    for q, info in candidates:
        if info is None or info.fulltext is None:
            continue
        index_cols: list[str] = list(info.fulltext["columns"])
        lower = {c.lower(): c for c in index_cols}
        if wanted == sorted(lower) or (len(wanted) == 1 and wanted[0] in lower):
            columns = [lower[n] for n in wanted] if len(wanted) == 1 else index_cols
            return columns, q, columns if len(columns) == 1 else index_cols
    raise GatewayError("fulltext_no_index")


def rewrite_flush(toks: list[Token]) -> str | None:
    """``OPTIMIZE TABLE t FLUSH`` -> ``DO (SELECT 1 FROM t LIMIT 0)`` (see FULLTEXT_TRANSLATIONS)."""
    if len(toks) < 4 or not is_kw(toks[0], "OPTIMIZE") or not is_kw(toks[1], "TABLE"):
        return None
    qn = parse_qualified_name(toks, 2)
    if qn is None or qn[2] != len(toks) - 1 or not is_kw(toks[-1], "FLUSH"):
        return None
    name = (quote_ident(qn[0]) + "." if qn[0] else "") + quote_ident(qn[1])
    return f"DO (SELECT 1 FROM {name} LIMIT 0)"
