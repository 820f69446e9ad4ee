"""A small regex-driven SQL lexer for the gateway's SQL engine.

It understands just enough of the MySQL/SingleStore lexical grammar to find statement boundaries,
keywords, identifiers and clause positions without ever being fooled by quotes or comments:

* string literals in single or double quotes, with both escape styles (``\\'`` and ``''``);
* backtick identifiers (````` doubles a backtick);
* ``--`` (followed by a space or control character), ``#`` and ``/* */`` comments; MySQL executable
  comments ``/*! ... */`` and ``/*M! ... */`` are *not* comments to the server, so their opening and
  closing markers are separate insignificant tokens and the SQL inside them is lexed normally;
* character-set introducers (``_binary'..'``, ``_utf8mb4'..'``) lex as a word followed by a string;
* numbers (decimal, hex ``0x..``/``x'..'``, binary ``0b..``) and operators including SingleStore's
  ``:>`` (cast), ``::``, ``::$`` and ``::%`` (JSON access).

Each token is one regex match, so a 20 MiB string literal costs one ``match`` call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

__all__ = [
    "Token",
    "find_top_level",
    "ident_value",
    "is_kw",
    "matching_paren",
    "parse_qualified_name",
    "quote_ident",
    "significant",
    "split_statements",
    "split_top_level_commas",
    "tokenize",
]


class Token(NamedTuple):
    kind: str  # ws comment xopen xclose str bq num var word op punct other
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        """The keyword spelling (upper case) of a word token, '' for anything else."""
        return self.text.upper() if self.kind == "word" else ""


INSIGNIFICANT = frozenset({"ws", "comment", "xopen", "xclose"})

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<xopen>/\*M?!\d*)
  | (?P<comment>--(?=[\s\x00-\x1f]|$)[^\n]*|\#[^\n]*|/\*[\s\S]*?(?:\*/|\Z))
  | (?P<str>'[^'\\]*(?:(?:\\[\s\S]|'')[^'\\]*)*(?:'|\Z)|"[^"\\]*(?:(?:\\[\s\S]|"")[^"\\]*)*(?:"|\Z))
  | (?P<bq>`[^`]*(?:``[^`]*)*(?:`|\Z))
  | (?P<num>0[xX][0-9a-fA-F]+\b|0[bB][01]+\b|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![A-Za-z_$]))
  | (?P<var>@@[A-Za-z0-9_$.]+|@`[^`]*`|@'[^']*'|@"[^"]*"|@[A-Za-z0-9_$.]+)
  | (?P<word>[A-Za-z0-9_$\u0080-\U0010ffff]+)
  | (?P<xclose>\*/)
  | (?P<op>::\$|::%|::|:>|:=|<=>|<=|>=|<>|!=|<<|>>|&&|\|\||->>|->|[-+*/%=<>!~^&|?:@{}\[\]])
  | (?P<punct>[(),;.])
  | (?P<other>[\s\S])
    """,
    re.VERBOSE,
)


def tokenize(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[Token]:
    """Yield every token (including whitespace and comments) of ``text[pos:endpos]``."""
    end = len(text) if endpos is None else endpos
    match = _TOKEN_RE.match
    while pos < end:
        m = match(text, pos, end)
        assert m is not None  # the "other" branch matches any character
        kind = m.lastgroup or "other"
        yield Token(kind, m.group(), pos, m.end())
        pos = m.end()


def significant(text: str, pos: int = 0, endpos: int | None = None) -> list[Token]:
    """The tokens that matter to the parser (no whitespace, comments or ``/*!`` markers)."""
    return [t for t in tokenize(text, pos, endpos) if t.kind not in INSIGNIFICANT]


def split_statements(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the statements in ``text``, split at top-level ``;``.

    Empty statements (only whitespace/comments) are dropped; the spans exclude the ``;``.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    has_content = False
    for tok in tokenize(text):
        if tok.kind == "punct" and tok.text == ";":
            if has_content:
                spans.append((start, tok.start))
            start = tok.end
            has_content = False
        elif tok.kind not in INSIGNIFICANT:
            has_content = True
    if has_content:
        spans.append((start, len(text)))
    return spans


def is_kw(tok: Token | None, *words: str) -> bool:
    """True when ``tok`` is a bare word equal (case-insensitively) to one of ``words``."""
    return tok is not None and tok.kind == "word" and tok.text.upper() in words


def ident_value(tok: Token) -> str:
    """The identifier a word / backtick / (ANSI) double-quoted token names."""
    if tok.kind == "bq":
        body = tok.text[1:-1] if tok.text.endswith("`") and len(tok.text) > 1 else tok.text[1:]
        return body.replace("``", "`")
    if tok.kind == "str":
        return string_value(tok)
    return tok.text


def string_value(tok: Token) -> str:
    """The value of a quoted string literal (both escape styles)."""
    text = tok.text
    quote = text[0]
    body = text[1:-1] if len(text) > 1 and text.endswith(quote) else text[1:]
    body = body.replace(quote * 2, quote)
    return re.sub(
        r"\\([\s\S])",
        lambda m: {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "Z": "\x1a", "b": "\b"}.get(
            m.group(1), m.group(1)
        ),
        body,
    )


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def is_ident(tok: Token | None) -> bool:
    return tok is not None and tok.kind in ("word", "bq")


def parse_qualified_name(toks: Sequence[Token], i: int) -> tuple[str | None, str, int] | None:
    """Parse ``[db.]name`` starting at ``toks[i]``: returns ``(db, name, next_index)`` or None."""
    if i >= len(toks) or not is_ident(toks[i]):
        return None
    first = ident_value(toks[i])
    if i + 2 < len(toks) and toks[i + 1].text == "." and is_ident(toks[i + 2]):
        return first, ident_value(toks[i + 2]), i + 3
    return None, first, i + 1


def matching_paren(toks: Sequence[Token], i: int) -> int:
    """Index of the ``)`` matching the ``(`` at ``toks[i]`` (or len(toks) if unbalanced)."""
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j]
        if t.kind == "punct":
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
                if depth == 0:
                    return j
    return len(toks)


def find_top_level(toks: Sequence[Token], start: int, end: int, *words: str) -> int:
    """Index of the first word in ``words`` at paren depth 0 within ``toks[start:end]``, or -1."""
    depth = 0
    wanted = frozenset(w.upper() for w in words)
    for j in range(start, min(end, len(toks))):
        t = toks[j]
        if t.kind == "punct":
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
        elif depth == 0 and t.kind == "word" and t.text.upper() in wanted:
            return j
    return -1


def split_top_level_commas(toks: Sequence[Token], start: int, end: int) -> list[tuple[int, int]]:
    """Split ``toks[start:end]`` at depth-0 commas: a list of ``(i, j)`` index ranges."""
    parts: list[tuple[int, int]] = []
    depth = 0
    seg = start
    for j in range(start, end):
        t = toks[j]
        if t.kind == "punct":
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
            elif t.text == "," and depth == 0:
                parts.append((seg, j))
                seg = j + 1
    parts.append((seg, end))
    return [(a, b) for a, b in parts if b > a]


def depth_map(toks: Sequence[Token]) -> list[int]:
    """Paren depth *before* each token."""
    depths: list[int] = []
    depth = 0
    for t in toks:
        if t.kind == "punct" and t.text == ")":
            depth -= 1
        depths.append(depth)
        if t.kind == "punct" and t.text == "(":
            depth += 1
    return depths


def apply_edits(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    """Replace the character ranges ``(start, end)`` of ``text``; edits must not overlap."""
    if not edits:
        return text
    out: list[str] = []
    pos = 0
    for start, end, repl in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise ValueError("overlapping edits")
        out.append(text[pos:start])
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)
