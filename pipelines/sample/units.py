"""The org-unit register of the sample data: real Nghệ An departments, districts and (a subset of) communes.

It holds the real history the pipeline must cope with (sources.md): the 2024 commune mergers, Cửa Lò merged
into Vinh in 2025-04, the 2025-03 department mergers, and the 1 July 2025 reorganisation that abolished the
district tier and regrouped communes into new commune-level units.

Unit-code scheme (stable, never reused): ``S01``… provincial departments (``so_nganh``), ``N01``… central
agencies based in the province (``nganh_doc``), ``H01``…``H21`` districts/towns/city, ``X0001``… communes that
existed before the 2025 reorganisation (including units created by the 2024 mergers), ``X1001``… the
commune-level units created on 2025-07-01.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from .common import YM, month_first, month_last

COMMUNE_MERGE_DATE = date(2024, 12, 1)  # Nghị quyết 1243/NQ-UBTVQH15 (2023-2025 arrangement)
CUA_LO_END = date(2025, 3, 31)  # Cửa Lò merged into Vinh (successor Vinh)
DEPT_MERGE_DATE = date(2025, 3, 1)  # 2025 streamlining of provincial departments
REORG_DATE = date(2025, 7, 1)  # Nghị quyết 1678/NQ-UBTVQH15: district tier abolished


@dataclass
class Unit:
    code: str
    name: str
    cap: str
    group: str
    parent: str = ""
    start: date | None = None
    end: date | None = None
    successor: str = ""
    aliases: list[str] = field(default_factory=list)
    # generator-only attributes (not written to the register)
    kind: str = ""  # dept | nganh_doc | district | commune | new_commune
    size: float = 1.0
    home: str = ""  # district a commune belongs to (new communes: the district of their predecessors)
    remote: bool = False  # mountainous west: slower online uptake
    predecessors: list[str] = field(default_factory=list)
    renamed: tuple[date, str] | None = None

    def valid_on(self, d: date) -> bool:
        return (self.start is None or self.start <= d) and (self.end is None or d <= self.end)

    def valid_between(self, a: date, b: date) -> bool:
        return (self.start is None or self.start <= b) and (self.end is None or a <= self.end)

    def valid_month(self, ym: YM) -> bool:
        return self.valid_between(month_first(ym), month_last(ym))

    def register_row(self) -> list[str]:
        return [
            self.code,
            self.name,
            self.cap,
            self.group,
            self.parent,
            self.start.isoformat() if self.start else "",
            self.end.isoformat() if self.end else "",
            self.successor,
            ";".join(self.aliases),
        ]


UNIT_COLUMNS = [
    "ma_don_vi",
    "ten_don_vi",
    "cap",
    "nhom_xep_hang",
    "ma_don_vi_cha",
    "hieu_luc_tu",
    "hieu_luc_den",
    "ma_don_vi_ke_thua",
    "ten_khac",
]

# code, name, aliases, linh_vuc handled at province level, size
DEPARTMENTS: list[tuple[str, str, list[str], tuple[str, ...], float]] = [
    ("S01", "Sở Nội vụ", ["Sở Nội vụ tỉnh Nghệ An"], ("noi_vu", "thi_dua_khen_thuong", "ton_giao"), 0.5),
    ("S02", "Sở Tư pháp", ["Sở Tư pháp tỉnh Nghệ An"], ("tu_phap",), 1.3),
    ("S03", "Sở Kế hoạch và Đầu tư", ["Sở KH&ĐT", "Sở Kế hoạch & Đầu tư"], ("dau_tu",), 1.4),
    ("S04", "Sở Tài chính", ["Sở Tài chính tỉnh Nghệ An"], ("tai_chinh",), 0.5),
    ("S05", "Sở Công Thương", ["Sở Công thương Nghệ An"], ("cong_thuong",), 0.9),
    ("S06", "Sở Nông nghiệp và Phát triển nông thôn", ["Sở NN&PTNT"], ("nong_nghiep",), 0.8),
    ("S07", "Sở Giao thông vận tải", ["Sở GTVT"], ("giao_thong",), 2.0),
    ("S08", "Sở Xây dựng", ["Sở Xây dựng Nghệ An"], ("xay_dung",), 0.8),
    ("S09", "Sở Tài nguyên và Môi trường", ["Sở TN&MT"], ("dat_dai", "moi_truong"), 1.5),
    ("S10", "Sở Thông tin và Truyền thông", ["Sở TT&TT"], ("thong_tin_truyen_thong",), 0.4),
    (
        "S11",
        "Sở Lao động - Thương binh và Xã hội",
        ["Sở LĐTB&XH", "Sở Lao động, Thương binh và Xã hội"],
        ("lao_dong", "bao_tro_xa_hoi"),
        1.0,
    ),
    ("S12", "Sở Văn hóa và Thể thao", ["Sở VH&TT"], ("van_hoa", "the_thao"), 0.5),
    ("S13", "Sở Du lịch", ["Sở Du lịch Nghệ An"], ("du_lich",), 0.3),
    ("S14", "Sở Khoa học và Công nghệ", ["Sở KH&CN"], ("khoa_hoc_cong_nghe",), 0.3),
    ("S15", "Sở Giáo dục và Đào tạo", ["Sở GD&ĐT"], ("giao_duc",), 1.1),
    ("S16", "Sở Y tế", ["Sở Y tế Nghệ An"], ("y_te",), 1.3),
    ("S17", "Thanh tra tỉnh", ["Thanh tra tỉnh Nghệ An"], ("khieu_nai_to_cao",), 0.2),
    ("S18", "Ban Dân tộc", ["Ban Dân tộc tỉnh Nghệ An"], ("dan_toc",), 0.2),
    ("S19", "Sở Ngoại vụ", ["Sở Ngoại vụ Nghệ An"], ("ngoai_vu",), 0.2),
    ("S20", "Ban Quản lý Khu kinh tế Đông Nam", ["BQL KKT Đông Nam"], ("khu_kinh_te",), 0.6),
    ("S21", "Văn phòng UBND tỉnh", ["Văn phòng Ủy ban nhân dân tỉnh Nghệ An"], ("hanh_chinh",), 0.3),
]
NEW_DEPARTMENT = ("S22", "Sở Nông nghiệp và Môi trường", ["Sở NN&MT"], (), 1.8)
# 2025-03-01: ended department -> successor (code)
DEPT_MERGERS = {
    "S03": "S04",
    "S07": "S08",
    "S06": "S22",
    "S09": "S22",
    "S10": "S14",
    "S11": "S01",
    "S13": "S12",
    "S19": "S21",
}
DEPT_RENAMES = {
    "S12": "Sở Văn hóa, Thể thao và Du lịch",
    "S18": "Sở Dân tộc và Tôn giáo",
}

NGANH_DOC: list[tuple[str, str, list[str], tuple[str, ...], float]] = [
    ("N01", "Công an tỉnh Nghệ An", ["Công an tỉnh", "CA tỉnh Nghệ An"], ("cu_tru", "xuat_nhap_canh"), 2.0),
    ("N02", "Cục Thuế tỉnh Nghệ An", ["Cục Thuế Nghệ An", "Thuế tỉnh Nghệ An"], ("thue",), 1.2),
    (
        "N03",
        "Bảo hiểm xã hội tỉnh Nghệ An",
        ["BHXH tỉnh Nghệ An", "Bảo hiểm xã hội Nghệ An"],
        ("bao_hiem_xa_hoi",),
        1.2,
    ),
]

# code, level word, name, start, size, remote, province-scale commune count
DISTRICTS: list[tuple[str, str, str, date | None, float, bool, int]] = [
    ("H01", "thành phố", "Vinh", None, 3.0, False, 25),
    ("H02", "thị xã", "Cửa Lò", date(1994, 8, 29), 0.6, False, 7),
    ("H03", "thị xã", "Thái Hòa", date(2007, 11, 15), 0.7, False, 9),
    ("H04", "thị xã", "Hoàng Mai", date(2013, 4, 1), 0.8, False, 10),
    ("H05", "huyện", "Nghi Lộc", None, 1.4, False, 29),
    ("H06", "huyện", "Diễn Châu", None, 1.6, False, 38),
    ("H07", "huyện", "Quỳnh Lưu", None, 1.5, False, 33),
    ("H08", "huyện", "Yên Thành", None, 1.5, False, 39),
    ("H09", "huyện", "Đô Lương", None, 1.3, False, 33),
    ("H10", "huyện", "Nam Đàn", None, 1.1, False, 19),
    ("H11", "huyện", "Hưng Nguyên", None, 1.0, False, 18),
    ("H12", "huyện", "Thanh Chương", None, 1.3, False, 35),
    ("H13", "huyện", "Anh Sơn", None, 0.9, False, 21),
    ("H14", "huyện", "Con Cuông", None, 0.6, True, 13),
    ("H15", "huyện", "Tương Dương", None, 0.6, True, 17),
    ("H16", "huyện", "Kỳ Sơn", None, 0.5, True, 21),
    ("H17", "huyện", "Quế Phong", None, 0.5, True, 14),
    ("H18", "huyện", "Quỳ Châu", None, 0.5, True, 12),
    ("H19", "huyện", "Quỳ Hợp", None, 0.9, False, 21),
    ("H20", "huyện", "Nghĩa Đàn", None, 0.9, False, 24),
    ("H21", "huyện", "Tân Kỳ", None, 0.9, False, 22),
]

DEMO_COMMUNES: dict[str, list[str]] = {
    "H01": [
        "phường Hưng Bình",
        "phường Lê Lợi",
        "phường Quang Trung",
        "phường Trường Thi",
        "phường Bến Thủy",
        "phường Hưng Dũng",
        "xã Nghi Phú",
        "xã Hưng Lộc",
    ],
    "H03": ["phường Hòa Hiếu", "phường Quang Tiến", "xã Tây Hiếu"],
    "H04": ["phường Quỳnh Thiện", "phường Mai Hùng", "xã Quỳnh Vinh"],
    "H05": [
        "thị trấn Quán Hành",
        "xã Nghi Phong",
        "xã Nghi Thái",
        "xã Nghi Xuân",
        "xã Nghi Thạch",
        "xã Nghi Long",
        "xã Nghi Trung",
        "xã Nghi Vạn",
    ],
    "H06": [
        "thị trấn Diễn Châu",
        "xã Diễn Kỷ",
        "xã Diễn Hồng",
        "xã Diễn Vạn",
        "xã Diễn Thành",
        "xã Diễn Ngọc",
        "xã Diễn Bích",
    ],
    "H07": [
        "thị trấn Cầu Giát",
        "xã Quỳnh Thạch",
        "xã Quỳnh Văn",
        "xã Quỳnh Tam",
        "xã Quỳnh Bá",
        "xã Quỳnh Hưng",
    ],
    "H08": ["thị trấn Hoa Thành", "xã Tăng Thành", "xã Công Thành", "xã Xuân Thành", "xã Hợp Thành"],
    "H09": ["thị trấn Đô Lương", "xã Đà Sơn", "xã Lạc Sơn", "xã Bắc Sơn", "xã Văn Sơn"],
    "H10": ["thị trấn Nam Đàn", "xã Kim Liên", "xã Nam Giang", "xã Hùng Tiến"],
    "H11": ["thị trấn Hưng Nguyên", "xã Hưng Tây", "xã Hưng Thịnh"],
    "H12": ["thị trấn Dùng", "xã Thanh Ngọc", "xã Thanh Đồng"],
    "H15": ["thị trấn Thạch Giám", "xã Yên Na", "xã Tam Quang"],
    "H16": ["thị trấn Mường Xén", "xã Hữu Kiệm", "xã Nậm Cắn", "xã Mỹ Lý"],
}
# (kind, old names, survivor or new name): effective COMMUNE_MERGE_DATE
DEMO_MERGES: list[tuple[str, list[str], str]] = [
    ("absorb", ["phường Lê Lợi"], "phường Hưng Bình"),
    ("absorb", ["xã Hưng Thịnh"], "xã Hưng Tây"),
    ("absorb", ["xã Diễn Bích"], "xã Diễn Vạn"),
    ("fuse", ["xã Thanh Ngọc", "xã Thanh Đồng"], "xã Đại Đồng"),
]
# new unit (from REORG_DATE), home district, predecessors
DEMO_REORG: list[tuple[str, str, list[str]]] = [
    ("phường Trường Vinh", "H01", ["phường Trường Thi", "phường Bến Thủy"]),
    ("phường Thành Vinh", "H01", ["phường Hưng Bình", "phường Quang Trung"]),
    ("phường Vinh Hưng", "H01", ["phường Hưng Dũng", "xã Hưng Lộc"]),
    ("phường Vinh Phú", "H01", ["xã Nghi Phú"]),
    ("phường Thái Hòa", "H03", ["phường Hòa Hiếu", "phường Quang Tiến"]),
    ("phường Tây Hiếu", "H03", ["xã Tây Hiếu"]),
    ("phường Hoàng Mai", "H04", ["phường Quỳnh Thiện", "phường Mai Hùng"]),
    ("phường Tân Mai", "H04", ["xã Quỳnh Vinh"]),
    ("xã Nghi Lộc", "H05", ["thị trấn Quán Hành", "xã Nghi Trung", "xã Nghi Long", "xã Nghi Vạn"]),
    ("xã Hải Lộc", "H05", ["xã Nghi Phong", "xã Nghi Thái", "xã Nghi Xuân", "xã Nghi Thạch"]),
    ("xã Diễn Châu", "H06", ["thị trấn Diễn Châu", "xã Diễn Thành", "xã Diễn Ngọc"]),
    ("xã Hải Châu", "H06", ["xã Diễn Kỷ", "xã Diễn Vạn", "xã Diễn Hồng"]),
    ("xã Quỳnh Lưu", "H07", ["thị trấn Cầu Giát", "xã Quỳnh Hưng", "xã Quỳnh Bá"]),
    ("xã Quỳnh Văn", "H07", ["xã Quỳnh Văn", "xã Quỳnh Thạch", "xã Quỳnh Tam"]),
    (
        "xã Yên Thành",
        "H08",
        ["thị trấn Hoa Thành", "xã Tăng Thành", "xã Công Thành", "xã Xuân Thành", "xã Hợp Thành"],
    ),
    ("xã Đô Lương", "H09", ["thị trấn Đô Lương", "xã Đà Sơn", "xã Lạc Sơn", "xã Bắc Sơn", "xã Văn Sơn"]),
    ("xã Nam Đàn", "H10", ["thị trấn Nam Đàn", "xã Nam Giang"]),
    ("xã Kim Liên", "H10", ["xã Kim Liên", "xã Hùng Tiến"]),
    ("xã Hưng Nguyên", "H11", ["thị trấn Hưng Nguyên", "xã Hưng Tây"]),
    ("xã Thanh Chương", "H12", ["thị trấn Dùng", "xã Đại Đồng"]),
    ("xã Tương Dương", "H15", ["thị trấn Thạch Giám", "xã Yên Na", "xã Tam Quang"]),
    ("xã Mường Xén", "H16", ["thị trấn Mường Xén", "xã Hữu Kiệm"]),
    ("xã Nậm Cắn", "H16", ["xã Nậm Cắn", "xã Mỹ Lý"]),
]

SMALL_DEPTS = ["S01", "S02", "S09"]
SMALL_NGANH_DOC = ["N01"]
SMALL_COMMUNES: dict[str, list[str]] = {
    "H01": ["phường Hưng Bình", "phường Lê Lợi", "phường Trường Thi"],
    "H05": ["thị trấn Quán Hành", "xã Nghi Phong", "xã Nghi Thái"],
    "H16": ["thị trấn Mường Xén", "xã Hữu Kiệm", "xã Nậm Cắn"],
}
SMALL_MERGES: list[tuple[str, list[str], str]] = [("absorb", ["phường Lê Lợi"], "phường Hưng Bình")]
SMALL_REORG: list[tuple[str, str, list[str]]] = [
    ("phường Thành Vinh", "H01", ["phường Hưng Bình", "phường Trường Thi"]),
    ("xã Nghi Lộc", "H05", ["thị trấn Quán Hành", "xã Nghi Phong", "xã Nghi Thái"]),
    ("xã Mường Xén", "H16", ["thị trấn Mường Xén", "xã Hữu Kiệm", "xã Nậm Cắn"]),
]

# Province scale: syllables for plausible generated commune names, and each district's naming habit.
SYLLABLES = (
    "An Bình Châu Diên Đồng Giang Hải Hòa Hợp Hưng Khánh Kim Lâm Liên Long Lộc Mỹ Minh Ngọc Phong Phú Phúc "
    "Quang Sơn Tân Thái Thạch Thành Thịnh Thuận Tiến Trung Trường Văn Vạn Xuân Yên Đức Hoa Lạc Hồng Kỳ "
    "Tường Mai Lĩnh Cát Đạo Nghĩa Hiếu Lợi Thắng Tài Lý Hạnh Hội Nhân Lương Thủy Tây Đông Nam Bắc Vĩnh Hậu "
    "Tú Kiều Hiệp Cường Dũng Hoàn Tâm Hương Hà Luân Khai Mậu Hoành"
).split()
MOUNTAIN_PREFIXES = [
    "Mường",
    "Nậm",
    "Na",
    "Tam",
    "Yên",
    "Hữu",
    "Lượng",
    "Keng",
    "Huồi",
    "Châu",
    "Tri",
    "Đồng",
]
DISTRICT_PREFIX = {
    "H02": "Nghi",
    "H03": "Nghĩa",
    "H04": "Quỳnh",
    "H05": "Nghi",
    "H06": "Diễn",
    "H07": "Quỳnh",
    "H10": "Nam",
    "H11": "Hưng",
    "H12": "Thanh",
    "H18": "Châu",
    "H19": "Châu",
    "H20": "Nghĩa",
    "H21": "Tân",
}
DISTRICT_SUFFIX = {"H08": "Thành", "H09": "Sơn", "H13": "Sơn"}
PROVINCE_PHUONG = {
    "H01": ["Trường Vinh", "Thành Vinh", "Vinh Hưng", "Vinh Phú", "Vinh Lộc"],
    "H02": ["Cửa Lò"],
    "H03": ["Thái Hòa", "Tây Hiếu"],
    "H04": ["Hoàng Mai", "Tân Mai", "Quỳnh Mai"],
}


def tone_old_style(text: str) -> str:
    """Old tone-mark placement (``Uỷ``, ``hoà``): a spelling variant the name resolver must accept."""
    pairs = {
        "òa": "oà",
        "óa": "oá",
        "ỏa": "oả",
        "õa": "oã",
        "ọa": "oạ",
        "òe": "oè",
        "óe": "oé",
        "ọe": "oẹ",
        "ùy": "uỳ",
        "úy": "uý",
        "ủy": "uỷ",
        "ũy": "uỹ",
        "ụy": "uỵ",
        "Ủy": "Uỷ",
    }
    for new, old in pairs.items():
        text = text.replace(new, old)
    return text


def norm_key(name: str) -> str:
    """The sources.md name-resolution key, used here to prove that clean report names resolve uniquely."""
    s = unicodedata.normalize("NFC", tone_old_style(unicodedata.normalize("NFC", name)))
    s = " ".join(s.casefold().split())
    for prefix in ("ubnd ", "ủy ban nhân dân ", "uỷ ban nhân dân "):
        if s.startswith(prefix):
            s = s[len(prefix) :]
            break
    return s


class Register:
    """Ordered unit register plus look-ups the feeds need (successor chains, validity)."""

    def __init__(self, units: list[Unit]):
        self.units = units
        self.by_code = {u.code: u for u in units}

    def current(self, code: str, d: date) -> Unit | None:
        """Follow ``ma_don_vi_ke_thua`` from ``code`` until a unit valid on ``d``."""
        seen: set[str] = set()
        u = self.by_code.get(code)
        while u is not None and not u.valid_on(d) and u.code not in seen:
            seen.add(u.code)
            u = self.by_code.get(u.successor) if u.successor else None
        return u if u is not None and u.valid_on(d) else None

    def of_kind(self, *kinds: str) -> list[Unit]:
        return [u for u in self.units if u.kind in kinds]

    def valid_in_month(self, ym: YM) -> list[Unit]:
        return [u for u in self.units if u.valid_month(ym)]

    def check_unique_names(self) -> None:
        """No two units valid at the same time may share a normalised name or alias (else reports are ambiguous)."""
        keys: dict[str, list[Unit]] = {}
        for u in self.units:
            for n in {norm_key(x) for x in [u.name, *u.aliases]}:
                keys.setdefault(n, []).append(u)
        for n, us in keys.items():
            for i, a in enumerate(us):
                for b in us[i + 1 :]:
                    lo = max(a.start or date.min, b.start or date.min)
                    hi = min(a.end or date.max, b.end or date.max)
                    if lo <= hi:
                        raise ValueError(f"name {n!r} shared by {a.code} and {b.code}")


def base_name(level_name: str) -> str:
    """``thị trấn Quán Hành`` -> ``Quán Hành``."""
    for level in ("thị trấn ", "phường ", "xã "):
        if level_name.startswith(level):
            return level_name[len(level) :]
    return level_name


def _commune_unit_name(level_name: str) -> str:
    return "UBND " + level_name


def _district_name(level: str, name: str) -> str:
    return f"UBND {level} {name}"


def _district_aliases(code: str, level: str, name: str) -> list[str]:
    if code == "H01":
        return ["UBND TP Vinh", "Ủy ban nhân dân thành phố Vinh"]
    if level == "thị xã":
        return [f"UBND TX {name}", f"UBND TX. {name}"]
    return [f"UBND H. {name}"]


def _province_geography(rng: random.Random) -> tuple[dict[str, list[str]], list, list]:
    """Province scale: 460 communes in 21 districts, 48 fewer after 2024, 130 units (119 xã, 11 phường) after 2025."""
    used: set[str] = set()
    communes: dict[str, list[str]] = {}
    for code, _level, _dname, _start, _size, remote, count in DISTRICTS:
        names: list[str] = []
        for n in DEMO_COMMUNES.get(code, []):
            if base_name(n) not in used and len(names) < count:
                names.append(n)
                used.add(base_name(n))
        tries = 0
        while len(names) < count:
            tries += 1
            syl = rng.choice(SYLLABLES)
            if remote:
                base = f"{rng.choice(MOUNTAIN_PREFIXES)} {syl}"
            elif code in DISTRICT_PREFIX:
                base = f"{DISTRICT_PREFIX[code]} {syl}"
            elif code in DISTRICT_SUFFIX:
                base = f"{syl} {DISTRICT_SUFFIX[code]}"
            else:
                base = f"{syl} {rng.choice(SYLLABLES)}"
            if tries > 5000:
                base = f"{base} {tries}"
            if base in used or base.split()[0] == base.split()[-1]:
                continue
            used.add(base)
            if code in ("H01", "H02", "H03", "H04") and rng.random() < 0.7:
                level = "phường"
            elif len(names) == 0 and code not in ("H01", "H02", "H03", "H04"):
                level = "thị trấn"
            else:
                level = "xã"
            names.append(f"{level} {base}")
        communes[code] = names

    # 2024-12-01: 40 absorptions and 8 fusions of two -> 460 - 48 = 412 (not in Cửa Lò, whose wards go to Vinh).
    merges: list[tuple[str, list[str], str]] = []
    pool = [c for c in communes if c not in ("H02",)]
    n_abs, n_fuse, k = 0, 0, 0
    taken: set[str] = set()
    while n_abs < 40 or n_fuse < 8:
        dcode = pool[k % len(pool)]
        k += 1
        free = [n for n in communes[dcode][1:] if n not in taken]
        if len(free) < 3:
            continue
        a, b = free[-1], free[-2]
        taken.update((a, b))
        if n_fuse < 8 and k % 5 == 0:
            new_base = ""
            while not new_base or new_base in used:
                new_base = f"{rng.choice(SYLLABLES)} {rng.choice(SYLLABLES)}"
            used.add(new_base)
            merges.append(("fuse", [a, b], f"xã {new_base}"))
            n_fuse += 1
        elif n_abs < 40:
            merges.append(("absorb", [a], b))
            taken.add(b)
            n_abs += 1

    # 2025-07-01: remaining communes regrouped into 130 units.
    ended = {n for kind, olds, _ in merges for n in olds if kind == "absorb" or kind == "fuse"}
    remaining: dict[str, list[str]] = {}
    for dcode, names in communes.items():
        rem = [n for n in names if n not in ended]
        rem += [new for kind, olds, new in merges if kind == "fuse" and olds[0] in names]
        remaining[dcode] = rem
    reorg: list[tuple[str, str, list[str]]] = []
    for dcode, pnames in PROVINCE_PHUONG.items():
        rem = remaining[dcode]
        chunks = _split(rem, len(pnames))
        for pname, chunk in zip(pnames, chunks, strict=True):
            reorg.append((f"phường {pname}", dcode, chunk))
    rural = [d for d in communes if d not in PROVINCE_PHUONG]
    total = sum(len(remaining[d]) for d in rural)
    quotas = {d: 119 * len(remaining[d]) / total for d in rural}
    alloc = {d: max(1, int(q)) for d, q in quotas.items()}
    for d in sorted(rural, key=lambda d: -(quotas[d] - int(quotas[d]))):
        if sum(alloc.values()) >= 119:
            break
        alloc[d] += 1
    new_used: set[str] = {p for ps in PROVINCE_PHUONG.values() for p in ps}
    dnames = {c: n for c, _lv, n, *_ in DISTRICTS}
    for d in rural:
        chunks = _split(remaining[d], alloc[d])
        for i, chunk in enumerate(chunks):
            if i == 0 and dnames[d] not in new_used:
                nm = dnames[d]
            else:
                nm = ""
                while not nm or nm in new_used:
                    first = DISTRICT_PREFIX.get(d) or rng.choice(
                        ["Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng"]
                    )
                    nm = f"{first} {rng.choice(SYLLABLES)}"
                    if nm.split()[0] == nm.split()[-1]:
                        nm = ""
            new_used.add(nm)
            reorg.append((f"xã {nm}", d, chunk))
    return communes, merges, reorg


def _split(items: list[str], k: int) -> list[list[str]]:
    k = max(1, min(k, len(items)))
    q, r = divmod(len(items), k)
    out, i = [], 0
    for j in range(k):
        n = q + (1 if j < r else 0)
        out.append(items[i : i + n])
        i += n
    return out


def build_register(scale: str, as_of: date, seed: int) -> Register:
    """Builds the register for a scale, then cuts it to what was known at ``as_of`` (no future units)."""
    rng = random.Random(f"{seed}:units:{scale}")
    units: list[Unit] = []

    if scale == "small":
        dept_codes, nd_codes = SMALL_DEPTS, SMALL_NGANH_DOC
        communes, merges, reorg = SMALL_COMMUNES, SMALL_MERGES, SMALL_REORG
        district_codes = list(SMALL_COMMUNES)
    elif scale == "demo":
        dept_codes = [d[0] for d in DEPARTMENTS] + [NEW_DEPARTMENT[0]]
        nd_codes = [n[0] for n in NGANH_DOC]
        communes, merges, reorg = DEMO_COMMUNES, DEMO_MERGES, DEMO_REORG
        district_codes = [d[0] for d in DISTRICTS]
    elif scale == "province":
        dept_codes = [d[0] for d in DEPARTMENTS] + [NEW_DEPARTMENT[0]]
        nd_codes = [n[0] for n in NGANH_DOC]
        communes, merges, reorg = _province_geography(rng)
        district_codes = [d[0] for d in DISTRICTS]
    else:
        raise ValueError(f"unknown scale {scale!r}")

    for code, name, aliases, _fields, size in [*DEPARTMENTS, NEW_DEPARTMENT]:
        if code not in dept_codes:
            continue
        u = Unit(code, name, "tinh", "so_nganh", aliases=list(aliases), kind="dept", size=size)
        if code == NEW_DEPARTMENT[0]:
            u.start = DEPT_MERGE_DATE
        succ = DEPT_MERGERS.get(code)
        if succ and succ in dept_codes:
            u.end = DEPT_MERGE_DATE - timedelta(days=1)
            u.successor = succ
        if code in DEPT_RENAMES:
            u.renamed = (DEPT_MERGE_DATE, DEPT_RENAMES[code])
        units.append(u)
    for code, name, aliases, _fields, size in NGANH_DOC:
        if code in nd_codes:
            units.append(
                Unit(code, name, "tinh", "nganh_doc", aliases=list(aliases), kind="nganh_doc", size=size)
            )

    for code, level, name, start, size, remote, _n in DISTRICTS:
        if code not in district_codes:
            continue
        u = Unit(
            code,
            _district_name(level, name),
            "huyen",
            "ubnd_huyen",
            start=start,
            end=REORG_DATE - timedelta(days=1),
            aliases=_district_aliases(code, level, name),
            kind="district",
            size=size,
            remote=remote,
        )
        if code == "H02" and "H01" in district_codes:
            u.end, u.successor = CUA_LO_END, "H01"
        units.append(u)
    dist = {u.code: u for u in units if u.kind == "district"}

    seq = 0
    by_name: dict[str, Unit] = {}
    for dcode in district_codes:
        for level_name in communes.get(dcode, []):
            seq += 1
            big = level_name.startswith(("phường", "thị trấn"))
            u = Unit(
                f"X{seq:04d}",
                _commune_unit_name(level_name),
                "xa",
                "ubnd_xa",
                parent=dcode,
                end=REORG_DATE - timedelta(days=1),
                kind="commune",
                size=round(rng.uniform(1.5, 2.4) if big else rng.uniform(0.9, 1.5), 2),
                home=dcode,
                remote=dist[dcode].remote,
            )
            if level_name.startswith("thị trấn") and rng.random() < 0.5:
                u.aliases.append("UBND TT " + level_name.split(" ", 2)[2])
            elif rng.random() < 0.15:
                u.aliases.append("Ủy ban nhân dân " + level_name)
            units.append(u)
            by_name[level_name] = u
    merge_end = COMMUNE_MERGE_DATE - timedelta(days=1)
    for kind, olds, target in merges:
        if kind == "absorb":
            survivor = by_name[target]
            for o in olds:
                by_name[o].end, by_name[o].successor = merge_end, survivor.code
        else:
            seq += 1
            first = by_name[olds[0]]
            nu = Unit(
                f"X{seq:04d}",
                _commune_unit_name(target),
                "xa",
                "ubnd_xa",
                parent=first.parent,
                start=COMMUNE_MERGE_DATE,
                end=REORG_DATE - timedelta(days=1),
                kind="commune",
                size=round(sum(by_name[o].size for o in olds), 2),
                home=first.home,
                remote=first.remote,
                predecessors=[by_name[o].code for o in olds],
            )
            units.append(nu)
            by_name[target] = nu
            for o in olds:
                by_name[o].end, by_name[o].successor = merge_end, nu.code
    nseq = 1000
    for new_name, home, olds in reorg:
        nseq += 1
        preds = [by_name[o] for o in olds]
        nu = Unit(
            f"X{nseq:04d}",
            _commune_unit_name(new_name),
            "xa",
            "ubnd_xa",
            start=REORG_DATE,
            kind="new_commune",
            size=round(sum(p.size for p in preds), 2),
            home=home,
            remote=dist[home].remote,
            predecessors=[p.code for p in preds],
        )
        units.append(nu)
        for p in preds:
            p.successor = nu.code
    # absorbed communes: the survivor's workload includes theirs after the merger
    by_code = {x.code: x for x in units}
    for u in units:
        if u.kind == "commune" and u.successor and u.end == merge_end:
            by_code[u.successor].predecessors.append(u.code)

    return _as_known_at(Register(units), as_of)


def _as_known_at(reg: Register, as_of: date) -> Register:
    """Drops units that start after ``as_of`` and forgets end dates still in the future (no data after as-of)."""
    kept: list[Unit] = []
    for u in reg.units:
        if u.start is not None and u.start > as_of:
            continue
        if u.end is not None and u.end >= as_of:
            u.end, u.successor = None, ""
        if u.renamed and u.renamed[0] <= as_of:
            u.aliases = [u.name, *u.aliases]
            u.name = u.renamed[1]
        kept.append(u)
    codes = {u.code for u in kept}
    for u in kept:
        if u.successor and u.successor not in codes:
            u.successor = ""
        u.predecessors = [p for p in u.predecessors if p in codes]
    reg = Register(kept)
    reg.check_unique_names()
    return reg
