-- The procedure catalogue (thủ tục hành chính).
select
    ma_thu_tuc as procedure_code,
    nfc_normalize(ten_thu_tuc) as procedure_name,
    linh_vuc as field,
    cap_thuc_hien as levels,
    co_nghia_vu_tai_chinh = 1 as is_fee_bearing,
    du_dieu_kien_truc_tuyen = 1 as is_online_eligible,
    muc_do_truc_tuyen as online_level,
    ngay_tich_hop_dvcqg as portal_integrated_on,
    ngay_tich_hop_tttt as online_payment_on,
    nam_don_gian_hoa as simplified_year,
    hieu_luc_tu as valid_from,
    hieu_luc_den as valid_to
from {{ source('raw', 'procedures') }}
