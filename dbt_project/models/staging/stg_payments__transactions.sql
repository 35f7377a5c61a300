-- One row per transaction id: identical rows are one, otherwise the later export wins (sources.md),
-- also when the later row was quarantined (macro later_export_wins). Rows dated after PAR_AS_OF are
-- ignored before the versions are compared (a copy re-dated after it does not win); rows before the
-- programme are left out here.
with ranked as (
    select * from {{ later_export_wins('payments', 'ma_giao_dich', 'thoi_diem') }} as latest
)

select
    export_id,
    ma_giao_dich as transaction_id,
    ma_ho_so as dossier_code,
    ma_thu_tuc as procedure_code,
    ma_don_vi as unit_code,
    thoi_diem as paid_at,
    strftime(thoi_diem, '%Y-%m') as period,
    year(thoi_diem) as year,
    month(thoi_diem) as month,
    so_tien as amount_vnd,
    kenh as channel,
    trang_thai as status,
    trang_thai = 'thanh_cong' as is_successful,
    kenh in ('dvcqg', 'cong_tinh') as is_online
from ranked
where
    cast(thoi_diem as date) <= {{ as_of() }}
    and year(thoi_diem) >= {{ first_year() }}
