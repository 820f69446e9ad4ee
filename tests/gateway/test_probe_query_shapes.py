"""The real-server probe (tests/probe_query_shapes.py) against the gateway: every statement gets the
outcome the gateway's rule table promises, so on a real server any DIFFERS row is the server disagreeing
with an assumption, not the probe."""

from __future__ import annotations

import pytest

from tests.probe_query_shapes import probe, render
from tests.testbed import Testbed

pytestmark = pytest.mark.gateway_only


def test_probe_matches_the_gateway(testbed: Testbed) -> None:
    rows = probe(testbed.master)
    assert len(rows) > 40
    assert [r for r in rows if r.status == "DIFFERS"] == []
    recorded = [r for r in rows if r.status == "RECORD"]
    assert recorded and all(r.got == "ok" for r in recorded)  # the gateway accepts the undecided forms
    assert "MATCH:" in render(rows)
