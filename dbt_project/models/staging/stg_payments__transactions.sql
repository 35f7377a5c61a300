-- One row per transaction id: identical rows are one, otherwise the later export wins (sources.md) —
-- also when the later export's row was quarantined: then the transaction counts nowhere, as a
-- dossier unit-month's data is its winning version's loaded rows only. Then rows dated after
-- PAR_AS_OF, or before the programme, are ignored.
with versions as (
    select
        ma_giao_dich as transaction_id,
        export_id,
        sort_key,
        false as is_quarantined
    from {{ source('raw', 'payments') }}
    union all
    select
        nullif(trim(json_extract_string(q.record, '$.ma_giao_dich')), '') as transaction_id,
        q.export_id,
        e.sort_key,
        true as is_quarantined
    from {{ source('raw', 'quarantine_rows') }} as q
    inner join {{ source('raw', 'exports') }} as e on q.export_id = e.export_id
    where q.feed = 'payments'
),

winners as (
    select
        transaction_id,
        arg_max(export_id, sort_key || '|' || export_id) as export_id,
        arg_max(is_quarantined, sort_key || '|' || export_id) as is_quarantined
    from versions
    where transaction_id is not null
    group by transaction_id
),

ranked as (
    select p.*
    from {{ source('raw', 'payments') }} as p
    inner join winners as w
        on p.ma_giao_dich = w.transaction_id and p.export_id = w.export_id and not w.is_quarantined
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
    cast(thoi_diem as date) <= {{ as_of() }}
    and year(thoi_diem) >= {{ first_year() }}
