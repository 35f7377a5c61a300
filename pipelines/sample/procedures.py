"""The procedure catalogue of the sample data (thủ tục hành chính), with real-looking national codes.

Catalogue dates improve over the years on purpose, so the catalogue KPIs (T07, T08, T23) have a trajectory
to show: portal integration (``ngay_tich_hop_dvcqg``) and online payment (``ngay_tich_hop_tttt``) spread over
2020–2025, simplification years over 2021–2026, and a few procedures abolished or introduced mid-programme.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

PROCEDURE_COLUMNS = [
    "ma_thu_tuc",
    "ten_thu_tuc",
    "linh_vuc",
    "cap_thuc_hien",
    "co_nghia_vu_tai_chinh",
    "du_dieu_kien_truc_tuyen",
    "muc_do_truc_tuyen",
    "ngay_tich_hop_dvcqg",
    "ngay_tich_hop_tttt",
    "nam_don_gian_hoa",
    "hieu_luc_tu",
    "hieu_luc_den",
]

# Which unit handles a province-level procedure of a field (before the 2025 department mergers).
FIELD_HANDLER = {
    "noi_vu": "S01",
    "thi_dua_khen_thuong": "S01",
    "ton_giao": "S01",
    "tu_phap": "S02",
    "dau_tu": "S03",
    "tai_chinh": "S04",
    "cong_thuong": "S05",
    "nong_nghiep": "S06",
    "giao_thong": "S07",
    "xay_dung": "S08",
    "dat_dai": "S09",
    "moi_truong": "S09",
    "thong_tin_truyen_thong": "S10",
    "lao_dong": "S11",
    "bao_tro_xa_hoi": "S11",
    "van_hoa": "S12",
    "the_thao": "S12",
    "du_lich": "S13",
    "khoa_hoc_cong_nghe": "S14",
    "giao_duc": "S15",
    "y_te": "S16",
    "khieu_nai_to_cao": "S17",
    "dan_toc": "S18",
    "ngoai_vu": "S19",
    "khu_kinh_te": "S20",
    "hanh_chinh": "S21",
    "cu_tru": "N01",
    "xuat_nhap_canh": "N01",
    "thue": "N02",
    "bao_hiem_xa_hoi": "N03",
}


@dataclass
class Procedure:
    code: str
    name: str
    field: str
    caps: tuple[str, ...]
    fee: int  # typical amount in VND; 0 = no financial obligation
    weight: float  # typical monthly dossiers at one handling unit of average size
    handler: str = ""  # province-level procedures: the unit code that handles it
    fee_kind: str = "flat"  # flat | page (per copied page) | range (depends on the case)
    eligible: bool = True
    level: str = "toan_trinh"
    dvcqg: date | None = None
    tttt: date | None = None
    simplified: int | None = None
    start: date | None = None
    end: date | None = None
    core: bool = False

    @property
    def has_fee(self) -> bool:
        return self.fee > 0

    def valid_on(self, d: date) -> bool:
        return (self.start is None or self.start <= d) and (self.end is None or d <= self.end)

    def valid_between(self, a: date, b: date) -> bool:
        return (self.start is None or self.start <= b) and (self.end is None or a <= self.end)

    def register_row(self) -> list[object]:
        return [
            self.code,
            self.name,
            self.field,
            ";".join(self.caps),
            1 if self.has_fee else 0,
            1 if self.eligible else 0,
            self.level,
            self.dvcqg.isoformat() if self.dvcqg else "",
            self.tttt.isoformat() if self.tttt else "",
            self.simplified or "",
            self.start.isoformat() if self.start else "",
            self.end.isoformat() if self.end else "",
        ]


# (field, name, caps, fee, weight, extra) -- extra: core / handler / fee_kind / fixed code / validity
_T = "tinh"
_H = "huyen"
_X = "xa"
_HX = "huyen;xa"
CURATED: list[tuple[str, str, str, int, float, dict]] = [
    ("thi_dua_khen_thuong", "Tặng Bằng khen của Chủ tịch Ủy ban nhân dân cấp tỉnh", _T, 0, 3, {"core": 1}),
    ("noi_vu", "Thẩm định thành lập hội", _T, 0, 0.3, {}),
    ("ton_giao", "Đăng ký hoạt động tôn giáo cho tổ chức có địa bàn hoạt động ở nhiều huyện", _T, 0, 0.3, {}),
    (
        "tu_phap",
        "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam",
        _T,
        200000,
        30,
        {"core": 1},
    ),
    ("tu_phap", "Đăng ký hoạt động Văn phòng công chứng", _T, 1000000, 0.5, {}),
    ("tu_phap", "Cấp Thẻ công chứng viên", _T, 0, 0.5, {}),
    ("tu_phap", "Đăng ký hành nghề luật sư với tư cách cá nhân", _T, 100000, 0.3, {}),
    ("dau_tu", "Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên", _T, 50000, 12, {}),
    ("dau_tu", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp", _T, 50000, 18, {}),
    ("dau_tu", "Thông báo tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn", _T, 0, 6, {}),
    ("dau_tu", "Chấp thuận chủ trương đầu tư của Ủy ban nhân dân cấp tỉnh", _T, 0, 0.8, {}),
    ("tai_chinh", "Đăng ký mã số đơn vị có quan hệ với ngân sách", _T, 0, 4, {}),
    (
        "tai_chinh",
        "Thẩm tra, phê duyệt quyết toán vốn đầu tư dự án hoàn thành",
        _T,
        500000,
        1.5,
        {"fee_kind": "range"},
    ),
    ("cong_thuong", "Cấp Giấy phép bán lẻ sản phẩm rượu", _T, 1200000, 1, {}),
    ("cong_thuong", "Cấp Giấy chứng nhận đủ điều kiện cửa hàng bán lẻ LPG chai", _T, 600000, 1, {}),
    ("cong_thuong", "Đăng ký thực hiện khuyến mại theo hình thức mang tính may rủi", _T, 0, 4, {}),
    (
        "nong_nghiep",
        "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm nông, lâm, thủy sản",
        _T,
        700000,
        2,
        {},
    ),
    (
        "nong_nghiep",
        "Cấp Giấy chứng nhận kiểm dịch động vật, sản phẩm động vật vận chuyển ra khỏi địa bàn cấp tỉnh",
        _T,
        70000,
        8,
        {"fee_kind": "range"},
    ),
    ("nong_nghiep", "Phê duyệt phương án khai thác thực vật rừng thông thường", _T, 0, 0.5, {}),
    ("giao_thong", "Đổi Giấy phép lái xe do ngành Giao thông vận tải cấp", _T, 135000, 35, {}),
    ("giao_thong", "Cấp lại Giấy phép lái xe", _T, 135000, 6, {}),
    ("giao_thong", "Cấp phù hiệu xe ô tô kinh doanh vận tải", _T, 0, 10, {}),
    ("giao_thong", "Cấp Giấy phép kinh doanh vận tải bằng xe ô tô", _T, 200000, 1.5, {}),
    (
        "xay_dung",
        "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II",
        _T,
        150000,
        1.5,
        {},
    ),
    ("xay_dung", "Cấp chứng chỉ hành nghề hoạt động xây dựng hạng II, hạng III", _T, 300000, 4, {}),
    (
        "xay_dung",
        "Thẩm định Báo cáo nghiên cứu khả thi đầu tư xây dựng",
        _T,
        1500000,
        1,
        {"fee_kind": "range"},
    ),
    (
        "dat_dai",
        "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất cho tổ chức",
        _T,
        500000,
        6,
        {"fee_kind": "range"},
    ),
    (
        "dat_dai",
        "Giao đất, cho thuê đất không thông qua đấu giá quyền sử dụng đất đối với tổ chức",
        _T,
        0,
        1.5,
        {},
    ),
    ("dat_dai", "Đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất", _T, 80000, 10, {"core": 1}),
    ("moi_truong", "Thẩm định báo cáo đánh giá tác động môi trường", _T, 5000000, 0.8, {"fee_kind": "range"}),
    (
        "moi_truong",
        "Cấp giấy phép môi trường",
        _T,
        2000000,
        1,
        {"start": date(2022, 1, 1), "fee_kind": "range"},
    ),
    ("thong_tin_truyen_thong", "Cấp giấy phép xuất bản bản tin", _T, 0, 0.4, {}),
    ("thong_tin_truyen_thong", "Cấp giấy phép hoạt động in", _T, 0, 0.3, {"end": date(2023, 6, 30)}),
    (
        "lao_dong",
        "Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam",
        _T,
        600000,
        4,
        {},
    ),
    ("lao_dong", "Giải quyết hưởng trợ cấp thất nghiệp", _T, 0, 25, {}),
    ("bao_tro_xa_hoi", "Thành lập cơ sở trợ giúp xã hội ngoài công lập", _T, 0, 0.2, {}),
    ("van_hoa", "Cấp giấy phép tổ chức lễ hội cấp tỉnh", _T, 0, 0.3, {}),
    ("the_thao", "Cấp Giấy chứng nhận đủ điều kiện kinh doanh hoạt động thể thao", _T, 500000, 0.8, {}),
    ("du_lich", "Cấp Giấy phép kinh doanh dịch vụ lữ hành nội địa", _T, 3000000, 0.5, {}),
    ("du_lich", "Cấp thẻ hướng dẫn viên du lịch nội địa", _T, 650000, 1, {}),
    ("khoa_hoc_cong_nghe", "Đăng ký hợp đồng chuyển giao công nghệ", _T, 500000, 0.4, {"fee_kind": "range"}),
    ("giao_duc", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", _T, 0, 8, {}),
    ("giao_duc", "Cho phép trung tâm ngoại ngữ, tin học hoạt động giáo dục", _T, 0, 0.6, {}),
    ("giao_duc", "Chuyển trường đối với học sinh trung học phổ thông", _T, 0, 3, {}),
    ("y_te", "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh", _T, 360000, 5, {}),
    ("y_te", "Cấp Chứng chỉ hành nghề dược", _T, 500000, 3, {}),
    ("y_te", "Cấp Giấy chứng nhận đủ điều kiện kinh doanh dược đối với nhà thuốc", _T, 1000000, 2, {}),
    ("khieu_nai_to_cao", "Giải quyết khiếu nại lần hai tại cấp tỉnh", _T, 0, 0.8, {}),
    ("dan_toc", "Công nhận người có uy tín trong đồng bào dân tộc thiểu số", _T, 0, 0.5, {}),
    ("ngoai_vu", "Cho phép sử dụng thẻ đi lại của doanh nhân APEC (thẻ ABTC)", _T, 0, 1, {}),
    (
        "dau_tu",
        "Cấp Giấy chứng nhận đăng ký đầu tư đối với dự án trong khu kinh tế, khu công nghiệp",
        _T,
        0,
        1.2,
        {"handler": "S20"},
    ),
    (
        "xay_dung",
        "Cấp giấy phép xây dựng công trình trong khu kinh tế, khu công nghiệp",
        _T,
        150000,
        0.8,
        {"handler": "S20"},
    ),
    (
        "hanh_chinh",
        "Tiếp nhận, xử lý phản ánh, kiến nghị của cá nhân, tổ chức về quy định hành chính",
        _T,
        0,
        1,
        {},
    ),
    ("cu_tru", "Đăng ký thường trú", _T, 20000, 40, {"core": 1}),
    ("xuat_nhap_canh", "Cấp hộ chiếu phổ thông ở trong nước", _T, 200000, 30, {"core": 1}),
    ("cu_tru", "Xác nhận thông tin về cư trú", _T, 0, 20, {}),
    ("thue", "Đăng ký thuế lần đầu đối với người nộp thuế là cá nhân", _T, 0, 30, {}),
    ("thue", "Hoàn thuế giá trị gia tăng", _T, 0, 3, {}),
    ("bao_hiem_xa_hoi", "Cấp lại, đổi thẻ bảo hiểm y tế", _T, 0, 30, {}),
    ("bao_hiem_xa_hoi", "Giải quyết hưởng bảo hiểm xã hội một lần", _T, 0, 15, {}),
    # district level
    ("ho_tich", "Đăng ký khai sinh có yếu tố nước ngoài", _H, 75000, 0.5, {}),
    ("ho_tich", "Đăng ký kết hôn có yếu tố nước ngoài", _H, 1000000, 0.3, {}),
    (
        "ho_tich",
        "Thay đổi, cải chính, bổ sung thông tin hộ tịch cho người từ đủ 14 tuổi trở lên",
        _H,
        25000,
        1.5,
        {},
    ),
    (
        "chung_thuc",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền của Việt Nam cấp",
        _HX,
        2000,
        36,
        {
            "core": 1,
            "fee_kind": "page",
            "code": "2.000815",
            "dvcqg": date(2020, 6, 15),
            "tttt": date(2021, 4, 1),
        },
    ),
    ("chung_thuc", "Chứng thực chữ ký trong các giấy tờ, văn bản", _HX, 10000, 8, {}),
    ("chung_thuc", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", _HX, 50000, 2, {}),
    (
        "dat_dai",
        "Đăng ký đất đai, tài sản gắn liền với đất lần đầu đối với hộ gia đình, cá nhân",
        _H,
        100000,
        10,
        {"core": 1, "fee_kind": "range"},
    ),
    (
        "dat_dai",
        "Đăng ký biến động do chuyển nhượng, tặng cho quyền sử dụng đất",
        _H,
        50000,
        18,
        {"core": 1, "fee_kind": "range"},
    ),
    (
        "dat_dai",
        "Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có thẩm quyền đối với hộ gia đình, cá nhân",
        _H,
        200000,
        3,
        {"fee_kind": "range"},
    ),
    ("dat_dai", "Cấp đổi Giấy chứng nhận quyền sử dụng đất", _H, 50000, 6, {}),
    ("xay_dung", "Cấp giấy phép xây dựng đối với nhà ở riêng lẻ", _H, 75000, 5, {"core": 1}),
    ("xay_dung", "Cấp giấy phép sửa chữa, cải tạo công trình", _H, 75000, 0.8, {}),
    ("dau_tu", "Đăng ký thành lập hộ kinh doanh", _H, 100000, 6, {"core": 1}),
    ("dau_tu", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", _H, 100000, 3, {}),
    ("bao_tro_xa_hoi", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng", _H, 0, 6, {"core": 1}),
    ("lao_dong", "Giải quyết chế độ trợ cấp một lần đối với người có công với cách mạng", _H, 0, 1, {}),
    ("giao_duc", "Chuyển trường đối với học sinh trung học cơ sở", _H, 0, 2, {}),
    ("giao_duc", "Cho phép trường mầm non tư thục hoạt động giáo dục", _H, 0, 0.2, {}),
    (
        "y_te",
        "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở kinh doanh dịch vụ ăn uống",
        _H,
        700000,
        1,
        {},
    ),
    ("van_hoa", "Cấp Giấy phép đủ điều kiện kinh doanh dịch vụ karaoke", _H, 4000000, 0.3, {}),
    ("cong_thuong", "Cấp Giấy phép bán lẻ rượu trên địa bàn cấp huyện", _H, 400000, 0.5, {}),
    ("giao_thong", "Cấp phép thi công công trình trên đường huyện", _H, 0, 0.4, {}),
    ("khieu_nai_to_cao", "Giải quyết khiếu nại lần đầu tại cấp huyện", _H, 0, 0.5, {}),
    ("nong_nghiep", "Phê duyệt kế hoạch khuyến nông địa phương", _H, 0, 0.2, {"end": date(2022, 12, 31)}),
    # commune level
    ("ho_tich", "Đăng ký khai sinh", _X, 0, 12, {"core": 1, "code": "1.001193"}),
    ("ho_tich", "Đăng ký kết hôn", _X, 0, 3, {"core": 1, "code": "1.000894"}),
    ("ho_tich", "Đăng ký khai tử", _X, 0, 3, {"core": 1, "code": "1.000656"}),
    ("ho_tich", "Cấp bản sao Trích lục hộ tịch", _HX, 8000, 6, {"core": 1, "code": "1.004227"}),
    ("ho_tich", "Cấp Giấy xác nhận tình trạng hôn nhân", _X, 3000, 5, {"core": 1}),
    ("ho_tich", "Đăng ký nhận cha, mẹ, con", _X, 15000, 0.3, {}),
    (
        "ho_tich",
        "Liên thông thủ tục hành chính về đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế "
        "cho trẻ em dưới 6 tuổi",
        _X,
        0,
        3,
        {"core": 1, "end": date(2024, 6, 30)},
    ),
    (
        "ho_tich",
        "Liên thông thủ tục hành chính về đăng ký khai tử, xóa đăng ký thường trú, hưởng chế độ tử tuất",
        _X,
        0,
        2,
        {"core": 1, "start": date(2024, 7, 1)},
    ),
    (
        "bao_tro_xa_hoi",
        "Xác nhận hộ gia đình làm nông nghiệp, lâm nghiệp, ngư nghiệp có mức sống trung bình",
        _X,
        0,
        1,
        {},
    ),
    ("bao_tro_xa_hoi", "Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm", _X, 0, 0.5, {}),
    ("dat_dai", "Hòa giải tranh chấp đất đai", _X, 0, 0.5, {}),
    ("giao_duc", "Cho phép nhóm trẻ, lớp mẫu giáo độc lập hoạt động", _X, 0, 0.1, {}),
    ("van_hoa", "Công nhận lần đầu danh hiệu Gia đình văn hóa", _X, 0, 0.3, {}),
    ("nong_nghiep", "Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai, dịch bệnh", _X, 0, 0.3, {}),
    ("lao_dong", "Đăng ký nuôi dưỡng, chăm sóc đối tượng cần bảo vệ khẩn cấp", _X, 0, 0.05, {}),
]

_ACTIONS = [
    "Cấp",
    "Cấp lại",
    "Cấp đổi",
    "Điều chỉnh",
    "Gia hạn",
    "Thu hồi",
    "Công nhận",
    "Thẩm định",
    "Phê duyệt",
    "Đăng ký",
    "Xác nhận",
    "Chấp thuận",
]
_OBJECTS = {
    "tu_phap": [
        "giấy đăng ký hoạt động của tổ chức hành nghề",
        "thẻ giám định viên tư pháp",
        "tư cách thừa phát lại",
    ],
    "dau_tu": ["giấy chứng nhận đăng ký đầu tư", "đăng ký doanh nghiệp", "đăng ký hoạt động chi nhánh"],
    "tai_chinh": ["phương án giá", "quyết toán ngân sách", "danh mục tài sản công"],
    "cong_thuong": [
        "giấy phép kinh doanh hóa chất",
        "giấy chứng nhận xuất xứ",
        "giấy phép hoạt động điện lực",
    ],
    "nong_nghiep": [
        "giấy chứng nhận kiểm dịch thực vật",
        "giấy phép khai thác thủy sản",
        "giấy chứng nhận VietGAP",
    ],
    "giao_thong": [
        "giấy phép lái xe",
        "giấy phép vận tải",
        "giấy chứng nhận đăng ký phương tiện thủy nội địa",
    ],
    "xay_dung": ["giấy phép xây dựng", "chứng chỉ năng lực hoạt động xây dựng", "thiết kế xây dựng"],
    "dat_dai": ["giấy chứng nhận quyền sử dụng đất", "quyết định giao đất", "hợp đồng thuê đất"],
    "moi_truong": [
        "giấy phép khai thác nước mặt",
        "giấy phép xả thải",
        "phương án cải tạo phục hồi môi trường",
    ],
    "lao_dong": [
        "giấy phép hoạt động cho thuê lại lao động",
        "chế độ người có công",
        "hồ sơ giáo dục nghề nghiệp",
    ],
    "van_hoa": ["giấy phép triển lãm", "giấy phép biểu diễn", "di tích lịch sử văn hóa"],
    "giao_duc": ["giấy phép hoạt động giáo dục", "văn bằng chứng chỉ", "học bổng chính sách"],
    "y_te": ["giấy phép hoạt động khám bệnh", "chứng chỉ hành nghề", "giấy chứng nhận thực hành tốt"],
    "ho_tich": ["trích lục hộ tịch", "đăng ký giám hộ", "ghi chú ly hôn"],
    "chung_thuc": ["bản sao chứng thực", "chữ ký người dịch", "hợp đồng giao dịch"],
    "bao_tro_xa_hoi": ["trợ cấp xã hội", "hỗ trợ mai táng phí", "chăm sóc đối tượng bảo trợ"],
}
_TINH_FIELDS = ["tu_phap", "dau_tu", "tai_chinh", "cong_thuong", "nong_nghiep", "giao_thong", "xay_dung"]
_TINH_FIELDS += ["dat_dai", "moi_truong", "lao_dong", "van_hoa", "giao_duc", "y_te"]
_LOCAL_FIELDS = [
    "ho_tich",
    "chung_thuc",
    "dat_dai",
    "xay_dung",
    "bao_tro_xa_hoi",
    "giao_duc",
    "van_hoa",
    "dau_tu",
]


def _rand_date(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def build_catalogue(scale: str, as_of: date, seed: int, handlers: set[str]) -> list[Procedure]:
    """Curated procedures (all of them for demo, the ``core`` ones for small) plus generated ones for province."""
    rng = random.Random(f"{seed}:procedures:{scale}")
    # the curated fixed codes are taken from the start: a generated code must never collide with one
    # (at province scale one did, and the register's duplicate quarantined a busy procedure)
    used_codes: set[str] = {extra["code"] for *_, extra in CURATED if extra.get("code")}
    procs: list[Procedure] = []

    def new_code(prefix: str) -> str:
        while True:
            c = f"{prefix}.00{rng.randint(100, 9999):04d}"
            if c not in used_codes:
                return c

    for i, (field, name, caps, fee, weight, extra) in enumerate(CURATED):
        if scale == "small" and not extra.get("core"):
            continue
        handler = extra.get("handler", FIELD_HANDLER.get(field, "")) if caps == _T else ""
        if caps == _T and handler not in handlers:
            continue
        code = extra.get("code") or new_code("1" if i % 3 else "2")
        used_codes.add(code)
        procs.append(
            Procedure(
                code,
                name,
                field,
                tuple(caps.split(";")),
                fee,
                weight,
                handler=handler,
                fee_kind=extra.get("fee_kind", "flat"),
                start=extra.get("start"),
                end=extra.get("end"),
                core=bool(extra.get("core")),
                dvcqg=extra.get("dvcqg"),
                tttt=extra.get("tttt"),
            )
        )
    if scale == "province":
        seen_names = {p.name for p in procs}
        target = 1800
        while len(procs) < target:
            r = rng.random()
            if r < 0.65:
                caps: tuple[str, ...] = (_T,)
                field = rng.choice(_TINH_FIELDS)
            elif r < 0.87:
                caps = (_H,) if rng.random() < 0.8 else (_H, _X)
                field = rng.choice(_LOCAL_FIELDS)
            else:
                caps = (_X,)
                field = rng.choice(_LOCAL_FIELDS)
            handler = FIELD_HANDLER.get(field, "") if caps == (_T,) else ""
            if caps == (_T,) and handler not in handlers:
                continue
            base = f"{rng.choice(_ACTIONS)} {rng.choice(_OBJECTS[field])}"
            name, k = base, 1
            while name in seen_names:
                k += 1
                name = f"{base} (trường hợp {k})"
            seen_names.add(name)
            fee = (
                rng.choice([10000, 20000, 50000, 100000, 200000, 500000, 1000000])
                if rng.random() < 0.4
                else 0
            )
            weight = round(min(3.0, 0.03 / (rng.random() ** 1.5 + 0.01)), 3)
            code = new_code("1" if rng.random() < 0.6 else "2")
            used_codes.add(code)
            procs.append(Procedure(code, name, field, caps, fee, weight, handler=handler))

    for p in procs:
        _catalogue_dates(p, rng)
        _cut_to(p, as_of)
    procs = [p for p in procs if p.start is None or p.start <= as_of]
    procs.sort(key=lambda p: p.code)
    return procs


def _catalogue_dates(p: Procedure, rng: random.Random) -> None:
    """Eligibility, online level and integration dates: better coverage for busy and fee-bearing procedures."""
    busy = p.weight >= 5 or p.core
    p.eligible = busy or rng.random() < (0.95 if p.has_fee else 0.86)
    if not p.eligible:
        p.level = "khong"
    else:
        r = rng.random()
        p.level = "toan_trinh" if r < 0.55 else "mot_phan" if r < (0.97 if busy else 0.95) else "khong"
    fixed = (p.dvcqg, p.tttt)  # a few busy procedures carry their real integration dates
    if p.level != "khong" and (busy or rng.random() < 0.94):
        if busy:
            p.dvcqg = _rand_date(rng, date(2020, 3, 1), date(2022, 6, 30))
        else:
            y = rng.choices([2020, 2021, 2022, 2023, 2024, 2025], [15, 25, 25, 18, 10, 7])[0]
            p.dvcqg = _rand_date(rng, date(y, 1, 1), date(y, 12, 31))
    if p.has_fee and p.dvcqg and (busy or rng.random() < 0.93):
        delay = rng.randint(30, 400) if busy else rng.randint(30, 1100)
        p.tttt = max(p.dvcqg + timedelta(days=delay), date(2020, 10, 1))
    if fixed[0]:
        p.eligible, p.level, p.dvcqg, p.tttt = True, "toan_trinh", fixed[0], fixed[1]
    if rng.random() < 0.25:
        p.simplified = rng.randint(2021, 2026)
    if p.start is None and not p.core and rng.random() < 0.02:
        p.start = rng.choice([date(2022, 7, 1), date(2023, 1, 1), date(2024, 7, 1)])
    if p.end is None and not p.core and p.weight < 5 and rng.random() < 0.02:
        p.end = rng.choice([date(2022, 12, 31), date(2023, 6, 30), date(2024, 12, 31)])


def _cut_to(p: Procedure, as_of: date) -> None:
    """Nothing in the catalogue is dated after the as-of date."""
    if p.dvcqg and p.dvcqg > as_of:
        p.dvcqg = None
    if p.tttt and (p.tttt > as_of or p.dvcqg is None):
        p.tttt = None
    if p.simplified and p.simplified > as_of.year:
        p.simplified = None
    if p.end and p.end >= as_of:
        p.end = None
