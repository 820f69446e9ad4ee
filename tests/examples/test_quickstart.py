"""`make demo`'s script (examples/quickstart.py) works on both aggregators of the test bed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_child
from tests.testbed import Testbed

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


@pytest.mark.parametrize("aggregator", ["master", "child"])
def test_quickstart_runs(testbed: Testbed, aggregator: str) -> None:
    if aggregator == "child":
        require_child(testbed)
    endpoint = testbed.master if aggregator == "master" else testbed.child
    assert endpoint is not None
    run = subprocess.run(
        [sys.executable, str(SCRIPT), endpoint.url], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert f"({aggregator} aggregator)" in run.stdout
    assert "Author: COLUMNSTORE, shard key (username), `id` kept as a plain KEY" in run.stdout
    assert (
        "after the rename: 'ada.lovelace' wrote 'Notes on the analytical engine'; id kept: True" in run.stdout
    )
