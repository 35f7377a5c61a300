"""CLI: ``python -m pipelines.sample --out sources/sample --scale demo --faults demo --as-of 2026-11-27``."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from .common import today_vn
from .generator import generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.sample", description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("sources/sample"))
    ap.add_argument("--scale", choices=["small", "demo", "province"], default="demo")
    ap.add_argument("--faults", choices=["none", "demo", "all"], default="demo")
    ap.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today, VN time)"
    )
    ap.add_argument("--seed", type=int, default=5158)
    ap.add_argument("--overwrite", action="store_true", help="replace exports already in the feed folders")
    ap.add_argument("--json", action="store_true", help="print the whole summary as JSON")
    args = ap.parse_args(argv)
    try:
        summary = generate(
            args.out,
            scale=args.scale,
            faults=args.faults,
            as_of=args.as_of or today_vn(),
            seed=args.seed,
            overwrite=args.overwrite,
        )
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
        return 0
    print(
        f"sample exports ({summary['scale']}, faults={summary['faults']}, as-of {summary['as_of']}) -> {summary['out']}"
    )
    files: dict = summary["files"]  # type: ignore[assignment]
    rows: dict = summary["rows"]  # type: ignore[assignment]
    for feed in files:
        print(f"  {feed:<17} {files[feed]:>5} files {rows.get(feed, 0):>12,} rows")
    kinds = Counter(str(i["kind"]) for i in summary["injected"])  # type: ignore[union-attr]
    if kinds:
        print("  injected faults: " + ", ".join(f"{k}×{n}" for k, n in sorted(kinds.items())))
    print(f"  {summary['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
