-- One row per transaction id: identical rows are one, otherwise the later export wins (sources.md) —
-- also when the later export's row was quarantined: then the transaction counts nowhere, as a
-- dossier unit-month's data is its winning version's loaded rows only. Then rows dated after
-- PAR_AS_OF, or before the programme, are ignored.
with export_order as (
    -- exports ranked in "later export wins" order; integers keep the per-id aggregate small
    select
        export_id,
        dense_rank() over (order by sort_key, export_id) as export_rank
    from {{ source('raw', 'exports') }}
    where feed = 'payments'
),

versions as (
    select
        t.ma_giao_dich as transaction_id,
        o.export_rank
    from {{ source('raw', 'payments') }} as t
    inner join export_order as o on t.export_id = o.export_id
    union all
    select
        nullif(trim(json_extract_string(q.record, '$.ma_giao_dich')), '') as transaction_id,
        o.export_rank
    from {{ source('raw', 'quarantine_rows') }} as q
    inner join export_order as o on q.export_id = o.export_id
    where q.feed = 'payments'
),

winners as (
    select
        transaction_id,
        max(export_rank) as export_rank
    from versions
    where transaction_id is not null
    group by transaction_id
),

-- a loaded row survives when its export is the id's latest version (an id is never both loaded and
-- quarantined within one export, so a quarantined latest version leaves no row)
ranked as (
    select t.*
    from {{ source('raw', 'payments') }} as t
    inner join export_order as o on t.export_id = o.export_id
    inner join winners as w on t.ma_giao_dich = w.transaction_id and o.export_rank = w.export_rank
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
