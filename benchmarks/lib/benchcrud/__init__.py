"""The sync CRUD set's model, importable by both this backend and the older one (benchmarks/crud.py)."""
