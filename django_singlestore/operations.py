"""SQL fragments: SingleStore's spellings where Django's MySQL ones are not SingleStore SQL.

Every SingleStore-only spelling emitted here is listed, with its documentation page, in
`tests/backend/EMITTED_SQL.md`.
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.core.exceptions import FieldError
from django.db import DataError, NotSupportedError, ProgrammingError
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.backends.mysql.operations import DatabaseOperations as MySQLDatabaseOperations
from django.db.models.constants import OnConflict
from django.db.models.expressions import Combinable, DurationExpression


def cast_sql(sql: str, db_type: str) -> str:
    """SingleStore's cast operator, fully parenthesised: `((expr) :> TYPE)`."""
    return f"(({sql}) :> {db_type})"


_TEXT_LOOKUPS = frozenset(
    {
        "iexact",
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "regex",
        "iregex",
    }
)
_CASE_INSENSITIVE_LOOKUPS = frozenset({"iexact", "icontains", "istartswith", "iendswith"})
# DATE_TRUNC's documented date parts (docs.singlestore.com .../date-and-time-functions/date-trunc/).
_DATE_TRUNC_UNITS = frozenset({"year", "quarter", "month", "week", "day", "hour", "minute", "second"})


class InvalidTruncationUnit(DataError, ValueError):
    """An unknown Trunc() kind, refused before it reaches the SQL text (DATE_TRUNC's unit is a string
    literal). A DataError, as Django expects of a backend given invalid data, and a ValueError."""


class InvalidIdentifier(ProgrammingError, ValueError):
    """A name that cannot be one SingleStore identifier (or a pre-quoted name that is not exactly one
    correctly quoted identifier): refused before it reaches the SQL text. A ProgrammingError, of
    Django's DatabaseError family, and a ValueError."""


def quote_identifier(name: str) -> str:
    """`name` as one backtick-quoted identifier that no name can end early.

    Embedded backticks are doubled (SingleStore's, and MySQL's, escape inside a quoted identifier).
    A name that already starts and ends with a backtick is taken as quoted only if it is exactly one
    correctly quoted identifier (every inner backtick doubled); Django's MySQL backend trusted it, so
    `` `t` (id INT); DROP TABLE x; -- ` `` ended its quoting. An empty name or one with NUL (which no
    SingleStore identifier may hold) is refused."""
    if not isinstance(name, str):
        raise InvalidIdentifier(f"An identifier must be a string, not {type(name).__name__} {name!r}.")
    if len(name) >= 2 and name[0] == "`" and name[-1] == "`":
        inner = name[1:-1]
        if "`" in inner.replace("``", ""):
            raise InvalidIdentifier(
                f"{name!r} starts and ends with a backtick but is not one correctly quoted identifier "
                f"(a backtick inside a quoted identifier must be doubled)."
            )
        _check_identifier(inner.replace("``", "`"), name)
        return name
    _check_identifier(name, name)
    return "`" + name.replace("`", "``") + "`"


def _check_identifier(text: str, name: str) -> None:
    if not text:
        raise InvalidIdentifier("An identifier cannot be empty.")
    if "\x00" in text:
        raise InvalidIdentifier(
            f"{name!r} holds a NUL character, which no SingleStore identifier may contain."
        )


#: Django's MySQL path wraps a duration operand as ``INTERVAL <microseconds> MICROSECOND``
#: (format_for_duration_arithmetic); `combine_duration_expression` takes the microseconds back out.
_INTERVAL_MICROSECONDS = re.compile(r"\AINTERVAL (.*) MICROSECOND\Z", re.S)
#: Operands a duration may be multiplied or divided by.
_NUMERIC_FIELDS = frozenset(
    {
        "DecimalField", "FloatField", "IntegerField", "BigIntegerField", "SmallIntegerField",
        "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField",
        "AutoField", "BigAutoField", "SmallAutoField",
    }
)  # fmt: skip


class DatabaseOperations(MySQLDatabaseOperations):
    compiler_module = "django_singlestore.compiler"

    def quote_name(self, name: str) -> str:
        """Every identifier the backend and Django write goes through `quote_identifier`."""
        return quote_identifier(name)

    # Every auto field is a BIGINT column (base.DatabaseWrapper.data_types), and SingleStore hands out
    # ids far above 2**31 (above 2**50 on child aggregators): lookups must accept BIGINT values.
    integer_field_ranges = {
        **MySQLDatabaseOperations.integer_field_ranges,
        "AutoField": MySQLDatabaseOperations.integer_field_ranges["BigAutoField"],
        "SmallAutoField": MySQLDatabaseOperations.integer_field_ranges["BigAutoField"],
    }

    # Types for `expr :> type` (SingleStore's cast operator): real column types, unlike MySQL's
    # CAST(... AS SIGNED INTEGER) vocabulary.
    cast_data_types = {
        "AutoField": "BIGINT",
        "BigAutoField": "BIGINT",
        "SmallAutoField": "BIGINT",
        "BigIntegerField": "BIGINT",
        "IntegerField": "INT",
        "SmallIntegerField": "SMALLINT",
        "PositiveBigIntegerField": "BIGINT UNSIGNED",
        "PositiveIntegerField": "INT UNSIGNED",
        "PositiveSmallIntegerField": "SMALLINT UNSIGNED",
        "BooleanField": "BOOL",
        "CharField": "VARCHAR(%(max_length)s)",
        "TextField": "LONGTEXT",
        "DecimalField": "DECIMAL(%(max_digits)s, %(decimal_places)s)",
        "FloatField": "DOUBLE",
        "DateField": "DATE",
        "DateTimeField": "DATETIME(6)",
        "TimeField": "TIME(6)",
        "DurationField": "BIGINT",
        "JSONField": "JSON",
        "UUIDField": "CHAR(32)",
        "BinaryField": "LONGBLOB",
    }
    cast_char_field_without_max_length = "LONGTEXT"

    # --- Dates and times -------------------------------------------------------------------------------

    def conditional_expression_supported_in_where_clause(self, expression):
        # A full-text score (search.Match) filters as SingleStore's docs write it, `WHERE MATCH (...)
        # AGAINST (...)`, not compared with TRUE (Django's MySQL default for conditional expressions).
        if getattr(expression, "full_text_search", False):
            return True
        return super().conditional_expression_supported_in_where_clause(expression)

    def date_extract_sql(self, lookup_type, sql, params):
        if lookup_type == "iso_year":
            # The ISO year is the calendar year of the week's Thursday (WEEKDAY(): Monday = 0).
            return f"YEAR(DATE_ADD({sql}, INTERVAL (3 - WEEKDAY({sql})) DAY))", (*params, *params)
        return super().date_extract_sql(lookup_type, sql, params)

    def _date_trunc(self, lookup_type: str, sql: str) -> str:
        if lookup_type not in _DATE_TRUNC_UNITS:
            raise InvalidTruncationUnit(f"Invalid truncation unit: {lookup_type!r}")
        return f"DATE_TRUNC('{lookup_type}', {sql})"

    def date_trunc_sql(self, lookup_type, sql, params, tzname=None):
        sql, params = self._convert_sql_to_tz(sql, params, tzname)
        return cast_sql(self._date_trunc(lookup_type, sql), "DATE"), params

    def datetime_trunc_sql(self, lookup_type, sql, params, tzname):
        sql, params = self._convert_sql_to_tz(sql, params, tzname)
        return cast_sql(self._date_trunc(lookup_type, sql), "DATETIME(6)"), params

    # time_trunc_sql, datetime_cast_*_sql and _convert_sql_to_tz (CONVERT_TZ(expr, 'UTC', zone):
    # stored UTC -> the current zone) are MySQL's and valid SingleStore SQL.

    # --- Lookups -----------------------------------------------------------------------------------------

    def lookup_cast(self, lookup_type, internal_type=None):
        lookup = "%s"
        if internal_type == "JSONField" and lookup_type in _TEXT_LOOKUPS:
            lookup = "JSON_EXTRACT_STRING(%s)"
        if lookup_type in _CASE_INSENSITIVE_LOOKUPS:
            lookup = f"LOWER({lookup})"
        return lookup

    def regex_lookup(self, lookup_type):
        # REGEXP_INSTR(source, pattern, position, occurrence, option, parameters): 'c' is
        # case-sensitive, 'i' case-insensitive. The pattern dialect is the global regexp_format.
        match_option = "c" if lookup_type == "regex" else "i"
        return f"REGEXP_INSTR(%s, %s, 1, 1, 0, '{match_option}') > 0"

    # --- INSERT ... ON DUPLICATE KEY UPDATE -------------------------------------------------------------

    def on_conflict_suffix_sql(self, fields, on_conflict, update_fields, unique_fields):
        """`c = VALUES(c)`: SingleStore has no MySQL 8 row alias (`AS new ... c = new.c`), which Django
        6.1's MySQL backend always writes (5.2 writes it from mysql_version 8.0.19, pinned below that)."""
        if on_conflict == OnConflict.UPDATE:
            assignments = ", ".join(
                f"{name} = VALUES({name})" for name in map(self.quote_name, update_fields)
            )
            return f"ON DUPLICATE KEY UPDATE {assignments}"
        return super().on_conflict_suffix_sql(fields, on_conflict, update_fields, unique_fields)

    # --- EXPLAIN -------------------------------------------------------------------------------------------

    def explain_query_prefix(self, format=None, **options):
        if options.pop("analyze", False):
            raise NotSupportedError(
                "SingleStore has no EXPLAIN ANALYZE; use PROFILE and SHOW PROFILE instead."
            )
        prefix = BaseDatabaseOperations.explain_query_prefix(self, format, **options)
        if format and format.upper() == "JSON":
            prefix += " JSON"
        return prefix

    # --- Flush and sequences (no foreign keys; AUTO_INCREMENT cannot be reset on sharded tables) -------------

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences:
            template = f"{style.SQL_KEYWORD('TRUNCATE TABLE')} %s;"
        else:
            template = f"{style.SQL_KEYWORD('DELETE FROM')} %s;"
        return [template % style.SQL_FIELD(self.quote_name(table)) for table in tables]

    def sequence_reset_by_name_sql(self, style, sequences):
        return []

    # --- Now() ------------------------------------------------------------------------------------------------

    def current_timestamp_sql(self) -> str:
        """The current time as Django stores it: UTC under USE_TZ (`SET time_zone` is a no-op on
        SingleStore, so CURRENT_TIMESTAMP is the server's zone), local time otherwise."""
        if not settings.USE_TZ:
            return "CURRENT_TIMESTAMP(6)"
        zone = self.connection.timezone_name
        if zone == "UTC":
            return "UTC_TIMESTAMP(6)"
        return f"CONVERT_TZ(UTC_TIMESTAMP(6), 'UTC', '{self._prepare_tzname_delta(zone)}')"

    # --- Durations (DurationField is a BIGINT of microseconds) ----------------------------------------------

    def check_expression_support(self, expression) -> None:
        """Duration arithmetic beyond ``+`` / ``-`` (Django ticket #25287): a duration times or divided by
        a number is computed on microseconds (`combine_duration_expression`); any other operator, a
        number divided by a duration, or a non-numeric operand raises NotSupportedError."""
        super().check_expression_support(expression)
        if not isinstance(expression, DurationExpression):
            return
        connector = expression.connector
        if connector in (Combinable.ADD, Combinable.SUB):
            return
        if connector not in (Combinable.MUL, Combinable.DIV):
            raise NotSupportedError(f"SingleStore: the {connector!r} operator is not supported on durations")
        try:
            types = (
                expression.lhs.output_field.get_internal_type(),
                expression.rhs.output_field.get_internal_type(),
            )
        except (AttributeError, FieldError) as exc:
            raise NotSupportedError(f"SingleStore: cannot {connector!r} a duration by this operand") from exc
        durations = [t == "DurationField" for t in types]
        if durations.count(True) != 1 or not all(
            d or t in _NUMERIC_FIELDS for d, t in zip(durations, types, strict=True)
        ):
            raise NotSupportedError(
                f"SingleStore: a duration {connector!r} takes one duration and one number, not {types[0]} "
                f"{connector} {types[1]}"
            )
        if connector == Combinable.DIV and not durations[0]:
            raise NotSupportedError("SingleStore: a number cannot be divided by a duration")

    def combine_duration_expression(self, connector, sub_expressions):
        """``*`` and ``/`` work on the duration's microseconds (the operand Django wrapped in ``INTERVAL
        ... MICROSECOND``), so the result is a number of microseconds again; ``+`` / ``-`` keep MySQL's
        INTERVAL arithmetic. A fractional result is rounded by `convert_durationfield_value`."""
        if connector not in (Combinable.MUL, Combinable.DIV):
            return super().combine_duration_expression(connector, sub_expressions)
        operands = []
        for sql in sub_expressions:
            m = _INTERVAL_MICROSECONDS.match(sql)
            operands.append(f"({m.group(1)})" if m else sql)
        return f" {connector} ".join(operands)

    def convert_durationfield_value(self, value, expression, connection):
        """Microseconds -> timedelta; a DECIMAL or DOUBLE (a multiplied or divided duration) is rounded
        half to even, as Python's timedelta arithmetic rounds."""
        if value is None:
            return None
        if not isinstance(value, int):
            value = round(value)
        return datetime.timedelta(microseconds=value)

    def subtract_temporals(self, internal_type, lhs, rhs):
        """``TIMESTAMPDIFF(MICROSECOND, rhs, lhs)`` for dates, datetimes and times ([doc] SingleStore
        "TIMESTAMPDIFF": MICROSECOND is one of its units). A TIME is compared on one day
        (``CONCAT('1970-01-01 ', t)``): [assumption] SingleStore's TIME_TO_SEC keeping microseconds (Django's
        MySQL path adds MICROSECOND() to it, which MariaDB's fractional TIME_TO_SEC would count twice) is
        not documented."""
        lhs_sql, lhs_params = lhs
        rhs_sql, rhs_params = rhs
        if internal_type == "TimeField":
            lhs_sql, rhs_sql = f"CONCAT('1970-01-01 ', {lhs_sql})", f"CONCAT('1970-01-01 ', {rhs_sql})"
        return f"TIMESTAMPDIFF(MICROSECOND, {rhs_sql}, {lhs_sql})", (*rhs_params, *lhs_params)
