"""The benchmark model (one table, seeded by the harness)."""
