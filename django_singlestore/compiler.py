"""SQL compilers: Django's MySQL compilers, with SingleStore's SQL for the nodes in `functions.py`."""

from __future__ import annotations

from django.db.backends.mysql import compiler as mysql_compiler

from django_singlestore.functions import compile_singlestore


class SingleStoreCompileMixin:
    def compile(self, node):
        compiled = compile_singlestore(node, self, self.connection)  # type: ignore[attr-defined]
        if compiled is not None:
            return compiled
        return super().compile(node)  # type: ignore[misc]


class SQLCompiler(SingleStoreCompileMixin, mysql_compiler.SQLCompiler):
    pass


class SQLInsertCompiler(SingleStoreCompileMixin, mysql_compiler.SQLInsertCompiler):
    pass


class SQLDeleteCompiler(SingleStoreCompileMixin, mysql_compiler.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(SingleStoreCompileMixin, mysql_compiler.SQLUpdateCompiler):
    pass


class SQLAggregateCompiler(SingleStoreCompileMixin, mysql_compiler.SQLAggregateCompiler):
    pass
