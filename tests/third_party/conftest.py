# The downloaded sdist (work/) holds files named test_*.py that are not ours.
collect_ignore_glob = ["work/*"]
