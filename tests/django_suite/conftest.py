# Django's unpacked tests (src/) and the runner's work dir hold files named test_*.py that are not ours.
collect_ignore_glob = ["src/*", "work/*"]
