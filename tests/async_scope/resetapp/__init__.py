"""A small third-party-style app with its own test suite (run by `test_reset_it.py` through Django's
test runner, once per `TEST["RESET"]` mode)."""
