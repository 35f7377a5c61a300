"""Run context shared by the feed writers: arguments, register, catalogue, months and bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .common import FIRST_YM, YM, last_expected_month, ym_of, ym_range, ym_str
from .procedures import Procedure
from .units import Register

if TYPE_CHECKING:
    from .faults import FaultPlan


@dataclass(frozen=True)
class ScaleParams:
    """Volume knobs per scale: λ multipliers by the handling unit's level, survey sizes, report habits."""

    vol: dict[str, float]
    sipas_per_unit: int
    other_per_unit: int
    # districts that send Biểu II.06a instead of a machine export, and the months they do it
    human_districts: tuple[tuple[str, tuple[str, ...]], ...]
    # (district, month) sent both ways: the machine export must win (kpis.md)
    both: tuple[tuple[str, str], ...]


_HUMAN_2021H1 = tuple(f"2021-{m:02d}" for m in range(1, 7))
SCALES: dict[str, ScaleParams] = {
    "small": ScaleParams(
        vol={"tinh": 0.2, "huyen": 0.15, "xa": 0.12},
        sipas_per_unit=34,
        other_per_unit=12,
        human_districts=(("H16", _HUMAN_2021H1),),
        both=(("H05", "2022-08"),),
    ),
    "demo": ScaleParams(
        vol={"tinh": 1.0, "huyen": 0.6, "xa": 0.7},
        sipas_per_unit=40,
        other_per_unit=25,
        human_districts=(
            ("H16", _HUMAN_2021H1),
            ("H17", _HUMAN_2021H1),
            ("H15", _HUMAN_2021H1),
            ("H18", ("2022-02", "2023-01")),
        ),
        both=(("H14", "2022-08"),),
    ),
    "province": ScaleParams(
        vol={"tinh": 52.0, "huyen": 24.0, "xa": 5.5},
        sipas_per_unit=80,
        other_per_unit=43,
        human_districts=(
            ("H16", _HUMAN_2021H1),
            ("H17", _HUMAN_2021H1),
            ("H15", _HUMAN_2021H1),
            ("H18", ("2022-02", "2023-01")),
        ),
        both=(("H14", "2022-08"),),
    ),
}


@dataclass
class Context:
    out: Path
    scale: str
    faults_mode: str
    as_of: date
    seed: int
    params: ScaleParams
    reg: Register
    procs: list[Procedure]
    proc_by_code: dict[str, Procedure] = field(default_factory=dict)
    expected: list[YM] = field(default_factory=list)
    sim_months: list[YM] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    faults: FaultPlan | None = None

    def __post_init__(self) -> None:
        self.proc_by_code = {p.code: p for p in self.procs}
        last = last_expected_month(self.as_of)
        self.expected = ym_range(FIRST_YM, last) if last >= FIRST_YM else []
        # simulate through the running month when at least one of its days is before as-of
        run = ym_of(self.as_of)
        if self.as_of.day == 1:
            run = (run[0] - 1, 12) if run[1] == 1 else (run[0], run[1] - 1)
        self.sim_months = ym_range(FIRST_YM, run) if run >= FIRST_YM else []

    def rel(self, path: Path) -> str:
        return path.relative_to(self.out).as_posix()

    def add_file(self, feed: str, path: Path, rows: int) -> None:
        self.files.setdefault(feed, []).append(self.rel(path))
        self.rows[feed] = self.rows.get(feed, 0) + rows

    def is_expected(self, ym: YM) -> bool:
        return bool(self.expected) and ym <= self.expected[-1]

    def expected_strs(self) -> list[str]:
        return [ym_str(m) for m in self.expected]
