"""bench/serve.py reads wrk's report: rate, p50/p99 in ms, and every kind of error."""

from __future__ import annotations

from bench.serve import parse_wrk

REPORT = """Running 10s test @ http://127.0.0.1:8501/v1/models/taxi:predict
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.07ms    3.12ms  48.26ms   80.12%
    Req/Sec     3.04k   201.42     3.40k    71.00%
  Latency Distribution
     50%  750.00us
     75%   22.51ms
     90%   24.02ms
     99%    1.20s
  30281 requests in 10.01s, 5.08MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   3025.93
Transfer/sec:    519.33KB
"""


def test_wrk_report():
    assert parse_wrk(REPORT) == {"rate": 3025.93, "p50": 0.75, "p99": 1200.0, "errors": 7}
    clean = REPORT.replace("  Socket errors: connect 0, read 2, write 0, timeout 1\n", "")
    assert parse_wrk(clean.replace("  Non-2xx or 3xx responses: 4\n", ""))["errors"] == 0
