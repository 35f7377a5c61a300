-- Each export that carries rows (loaded or quarantined) of a unit-month is a version of it (kpis.md).
-- version_rank 1 is the winner: a machine export beats a human report; then the newest version date
-- (latest ngay_xuat among its rows of the unit-month; a Biểu II.06a's date line at 00:00); ties go
-- to the export whose file name sorts last.
with carried as (
    select
        unit_code,
        period,
        month_start,
        export_id,
        file_name,
        sort_key,
        source_format,
        exported_at,
        1 as loaded,
        0 as quarantined,
        case when balance_ok then 0 else 1 end as balance_failed
    from {{ ref('stg_dossiers__rows') }}
    union all
    select
        unit_code,
        period,
        month_start,
        export_id,
        file_name,
        sort_key,
        source_format,
        exported_at,
        0,
        1,
        0
    from {{ ref('stg_dossiers__quarantined') }}
),

versions as (
    select
        unit_code,
        period,
        month_start,
        export_id,
        any_value(file_name) as file_name,
        any_value(sort_key) as sort_key,
        any_value(source_format) as source_format,
        max(exported_at) as version_ts,
        sum(loaded) as loaded_rows,
        sum(quarantined) as quarantined_rows,
        sum(balance_failed) as balance_failures
    from carried
    group by unit_code, period, month_start, export_id
)

select
    *,
    row_number() over (
        partition by unit_code, period
        order by
            source_format = 'machine' desc,
            version_ts desc nulls last,
            sort_key desc,
            export_id desc
    ) as version_rank
from versions
