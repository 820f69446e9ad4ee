"""Introspection: MySQL's information_schema queries, minus foreign keys (SingleStore has none).

Issue 6 adds storage type, shard key and sort key.
"""

from __future__ import annotations

from django.db.backends.mysql.introspection import DatabaseIntrospection as MySQLDatabaseIntrospection


class DatabaseIntrospection(MySQLDatabaseIntrospection):
    def get_relations(self, cursor, table_name):
        return {}
