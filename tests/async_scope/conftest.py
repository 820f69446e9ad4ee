"""Fixtures for the connection-scope and async-transaction tests: the native async ORM tests' own
(`tests/async_orm/conftest.py`: a database per module with the `native` and `stock` aliases, committed
seed data, the sync side on a worker thread)."""

from tests.async_orm.conftest import _own_databases, orm_aliases, side, statements  # noqa: F401
