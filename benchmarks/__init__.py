"""`make bench`: the benchmark harness (issue 13). Entry point: `python -m benchmarks`; see README.md here."""
