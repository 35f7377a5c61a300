-- The unit register (đơn vị), names in NFC.
select
    ma_don_vi as unit_code,
    nfc_normalize(ten_don_vi) as unit_name,
    cap as unit_level,
    nhom_xep_hang as ranking_group,
    ma_don_vi_cha as parent_code,
    hieu_luc_tu as valid_from,
    hieu_luc_den as valid_to,
    ma_don_vi_ke_thua as successor_code,
    nfc_normalize(ten_khac) as aliases
from {{ source('raw', 'units') }}
