"""The login floor: bcrypt `checkpw` verifies per second on all cores.

    python bench/floor/bcrypt_rate.py [--cost 12] [--seconds 10]

One hash of the given cost, then a pool of os.cpu_count() processes each verifying it in a loop
for about --seconds. Prints one line `BENCHJSON {...}` with the total rate and the median time of
one verify. A login that checks one bcrypt hash per request cannot go faster than this rate.
"""

import argparse
import json
import os
import statistics
import time
from multiprocessing import Pool

import bcrypt

PASSWORD = b"Bench-floor-password-1"


def verify_for(hashed: bytes, seconds: float) -> list[float]:
    """Verify `hashed` until `seconds` have passed; the duration of each verify."""
    durations = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        bcrypt.checkpw(PASSWORD, hashed)
        durations.append(time.perf_counter() - started)
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cost", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    hashed = bcrypt.hashpw(PASSWORD, bcrypt.gensalt(rounds=args.cost))
    processes = os.cpu_count() or 1
    started = time.perf_counter()
    with Pool(processes) as pool:
        per_process = pool.starmap(verify_for, [(hashed, args.seconds)] * processes)
    wall = time.perf_counter() - started
    durations = [duration for durations in per_process for duration in durations]
    median_ms = statistics.median(durations) * 1000
    print("BENCHJSON " + json.dumps({
        "requests": len(durations), "seconds": round(wall, 3), "rps": round(len(durations) / wall, 2),
        "p50_ms": round(median_ms, 3), "p99_ms": None, "non_2xx": 0, "socket_errors": 0,
        "cost": args.cost, "processes": processes,
    }), flush=True)


if __name__ == "__main__":
    main()
