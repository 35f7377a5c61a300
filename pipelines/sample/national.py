"""National index results: the published ranks of national_ranks.csv plus clearly-labelled sample rows.

Published rows are copied verbatim (spec/national_ranks.csv). Added rows (ICT Index, PAPI 2023, 2024–2025
results) are plausible values labelled as sample data in ``nguon``; a year's results appear only once
they would have been published (mid-following-year) at the as-of date. From 2025 the country has 34
provinces, so ranks are out of 34.
"""

from __future__ import annotations

from datetime import date

from .common import CsvOut
from .context import Context

NATIONAL_COLUMNS = ["nam", "chi_so", "diem", "thu_hang", "so_tinh", "nguon"]
PUBLISHED = [
    ["2021", "PAR_INDEX", "", "17", "63", "truyenhinhnghean.vn (PAR INDEX 2021 results)"],
    ["2022", "PAR_INDEX", "", "16", "63", "baonghean.vn (PAR INDEX 2022 results)"],
    ["2023", "PAR_INDEX", "", "15", "63", "nghean24h.vn (PAR INDEX 2023 results)"],
    ["2021", "SIPAS", "", "35", "63", "truyenhinhnghean.vn (SIPAS 2021 results)"],
    ["2022", "SIPAS", "", "14", "63", "baonghean.vn (SIPAS 2022 results)"],
    ["2023", "SIPAS", "", "12", "63", "nghean24h.vn (SIPAS 2023 results)"],
    ["2021", "PCI", "", "30", "63", "baonghean.vn (PCI 2021)"],
    ["2022", "PCI", "66.60", "23", "63", "baonghean.vn (PCI 2022)"],
    ["2023", "PCI", "65.72", "44", "63", "baonghean.vn (PCI 2023)"],
    ["2021", "PAPI", "", "15", "63", "derived: PAPI 2022 reported 17th and 2 places down on 2021"],
    ["2022", "PAPI", "", "17", "63", "baonghean.vn (PAPI 2022)"],
]
SAMPLE_NOTE = "dữ liệu mẫu (không phải số liệu công bố)"
ADDED = [
    ["2021", "ICT_INDEX", "0.4512", "35", "63"],
    ["2022", "ICT_INDEX", "0.5108", "31", "63"],
    ["2023", "ICT_INDEX", "0.5630", "27", "63"],
    ["2023", "PAPI", "42.85", "19", "63"],
    ["2024", "PAR_INDEX", "87.34", "12", "63"],
    ["2024", "SIPAS", "84.10", "11", "63"],
    ["2024", "PCI", "67.05", "33", "63"],
    ["2024", "PAPI", "43.12", "16", "63"],
    ["2024", "ICT_INDEX", "0.6215", "22", "63"],
    ["2025", "PAR_INDEX", "89.05", "9", "34"],
    ["2025", "SIPAS", "86.42", "8", "34"],
    ["2025", "PCI", "68.20", "17", "34"],
    ["2025", "PAPI", "44.01", "12", "34"],
    ["2025", "ICT_INDEX", "0.6740", "11", "34"],
]


def write_national(ctx: Context) -> None:
    path = ctx.out / "national_indices" / "national_indices.csv"
    with CsvOut(path, NATIONAL_COLUMNS) as out:
        for row in PUBLISHED:
            out.write(row)
        for row in ADDED:
            if ctx.as_of >= date(int(row[0]) + 1, 6, 30):
                out.write([*row, SAMPLE_NOTE])
        n = out.rows
    ctx.add_file("national_indices", path, n)
