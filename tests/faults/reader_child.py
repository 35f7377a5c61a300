"""An analyst querying the published marts in a loop until STOP_FILE exists (or a time limit).

    python reader_child.py PUBLISHED_FILE STOP_FILE MAX_SECONDS

Each round opens the published copy read-only, as `make sql` does, reads every mart and closes it. Prints
one JSON line: rounds done, the distinct states seen (row counts per mart), and every error.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb


def main() -> None:
    published, stop, limit = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    rounds, errors, states = 0, [], set()
    end = time.monotonic() + limit
    while not stop.exists() and time.monotonic() < end:
        try:
            con = duckdb.connect(str(published), read_only=True)
            try:
                tables = [
                    r[0]
                    for r in con.execute(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1"
                    ).fetchall()
                ]
                counts = tuple(
                    (t, con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0]) for t in tables
                )
                con.execute("SELECT gap_type, count(*) FROM marts.reporting_gaps GROUP BY 1").fetchall()
            finally:
                con.close()
            states.add(counts)
            rounds += 1
        except Exception as exc:  # every failure is reported, none stops the loop
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
        time.sleep(0.05)
    print(json.dumps({"rounds": rounds, "errors": errors, "states": [list(s) for s in states]}))


if __name__ == "__main__":
    main()
