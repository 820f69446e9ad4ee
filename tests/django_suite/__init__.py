"""Django's own test suite against the backend (issue 7). See README.md."""
