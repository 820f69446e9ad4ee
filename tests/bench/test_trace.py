"""benchmarks/trace.py: a traced request's timestamps split into consecutive waits (issue 13)."""

from __future__ import annotations

from benchmarks import trace


def test_segments_split_a_native_request_into_consecutive_waits() -> None:
    client = {"sent": 10.000, "done": 10.100}
    server = {"rx": 10.002, "enter": 10.005, "acq": [(10.010, 10.060)], "db_rx": [10.070],
              "rel": [10.080], "resp": 10.090}  # fmt: skip
    seg = trace.segments(client, server)
    assert seg is not None
    assert seg["to_server"] == 2.0 and seg["rx_to_task"] == 3.0 and seg["before_pool"] == 5.0
    assert seg["pool_wait"] == 50.0 and seg["with_conn"] == 20.0
    assert seg["conn_to_reply"] == 10.0 and seg["reply_to_release"] == 10.0
    assert seg["after_pool"] == 10.0 and seg["to_client"] == 10.0 and seg["total"] == 100.0
    parts = ("to_server", "rx_to_task", "before_pool", "pool_wait", "with_conn", "after_pool", "to_client")
    assert round(sum(seg[k] for k in parts), 3) == seg["total"]


def test_segments_of_a_stock_request_and_of_an_unmatched_one() -> None:
    client = {"sent": 1.0, "done": 1.5}
    seg = trace.segments(client, {"rx": 1.1, "enter": 1.2, "resp": 1.4})
    assert seg == {
        "to_server": 100.0,
        "rx_to_task": 100.0,
        "handler": 200.0,
        "to_client": 100.0,
        "total": 500.0,
    }
    assert trace.segments(client, {}) is None  # the server never saw it: not counted


def test_summarize_bands_by_total_and_counts_gcs_and_lag_inside_the_window() -> None:
    reqs = [{"total": float(t), "handler": float(t)} for t in range(1, 201)]
    out = trace.summarize(reqs, [[0.5, 0.2, 2], [5.0, 0.01, 0], [20.0, 1.0, 2]], (1.0, 10.0),
                          [[2.0, 0.001], [3.0, 0.2], [11.0, 5.0]])  # fmt: skip
    assert out["n"] == 200
    assert out["p0-50"]["total"] == 50.5 and out["p99-100"]["total"] == 199.5
    assert out["gc"] == {"count": 1, "total_ms": 10.0, "max_ms": 10.0, "gen2": 0}
    assert out["loop_lag_ms"]["max"] == 200.0 and out["loop_lag_ms"]["over_50ms_s"] == 0.2
