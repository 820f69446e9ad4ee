"""A third-party Django app's own test suite on this backend, in both `TEST["RESET"]` modes (issue 16).

`python -m tests.third_party` downloads django-simple-history's sdist (its tests ship only there), runs its
own runner (`runtests.py`) against the backend once per mode, records every outcome with the Django-suite
recorder, and writes `RESULTS.md` beside this file.
"""
