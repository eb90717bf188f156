"""`python -m bench` (`make bench`): every benchmark, then one summary of the figures of record.

Each ratio is taken against its peer measured in the same run, on this machine: the hot path
against its floor, the cold import against its packages, the local stack against
python-socketio doing the same work. The machine's core count is printed with them.
"""

from __future__ import annotations

import os
import sys

from bench import cold_start, local_echo, socketio_peer, stack_echo, stack_fanout, triggers


def main() -> None:
    print(f"== machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("== bench.triggers")
    hot = triggers.main([])
    print("\n== bench.cold_start")
    cold = cold_start.main([])
    print("\n== bench.stack_echo (50 clients x 40 round trips, against python-socketio in turn)")
    echo, peer_echo = stack_echo.compare(clients=50, messages=40, rounds=5)
    print("\n== bench.stack_fanout (1,000 subscribers)")
    fanout = stack_fanout.main([])
    print("\n== bench.socketio_peer (the same fan-out on python-socketio)")
    _, peer_fanout = socketio_peer.main(
        ["--clients", "50", "--messages", "40", "--subscribers", "1000"]
    )
    print("\n== bench.local_echo")
    local_echo.main([])

    print("\n== summary (ratios measured in this run)")
    rows = [
        ("hot path vs its floor, telemetry off", f"{hot.ratio:.2f}x the floor's cost"),
    ]
    if hot.traced_per_s:
        rows.append(("hot path vs its floor, telemetry on", f"{hot.traced_ratio:.2f}x"))
    rows += [
        ("cold import vs its packages alone", f"{cold.ratio:.2f}x"),
        (
            "stack echo vs python-socketio (throughput, median of 5 pairs)",
            f"{echo.per_second / peer_echo.per_second:.2f}x "
            f"({echo.per_second:,.0f} vs {peer_echo.per_second:,.0f} msgs/s)",
        ),
        (
            "1,000-subscriber publish, last receipt vs python-socketio",
            f"{fanout.last_ms / peer_fanout.last_ms:.2f}x the time "
            f"({fanout.last_ms:.0f} vs {peer_fanout.last_ms:.0f} ms)",
        ),
    ]
    for kind, (table, rest) in hot.calls.items():
        rows.append((f"calls: {kind}", f"table={table} rest={rest}"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
