-- One row per transaction id: identical rows are one, otherwise the later export wins (sources.md).
-- Then rows dated after PAR_AS_OF, or before the programme, are ignored.
with ranked as (
    select
        *,
        row_number() over (
            partition by ma_giao_dich order by sort_key desc, export_id desc
        ) as version_rank
    from {{ source('raw', 'payments') }}
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
    so_tien as amount_vnd,
    kenh as channel,
    trang_thai as status,
    trang_thai = 'thanh_cong' as is_successful,
    kenh in ('dvcqg', 'cong_tinh') as is_online
from ranked
where
    version_rank = 1
    and cast(thoi_diem as date) <= {{ as_of() }}
    and year(thoi_diem) >= {{ first_year() }}
