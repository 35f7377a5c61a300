-- Quarantined dossier rows that still name a known unit and a period: they make their export a
-- version of that unit-month (kpis.md) and block it from counting as received.
select
    q.export_id,
    q.row_number,
    q.file_name,
    e.sort_key,
    e.report_kind as source_format,
    q.period,
    cast(q.period || '-01' as date) as month_start,
    q.unit_code,
    q.version_ts as exported_at,
    q.reason_code,
    q.reason
from {{ source('raw', 'quarantine_rows') }} as q
inner join {{ source('raw', 'exports') }} as e on q.export_id = e.export_id
where
    q.feed = 'dossiers'
    and q.unit_code is not null
    and q.period is not null
    and year(cast(q.period || '-01' as date)) between {{ first_year() }} and year({{ as_of() }})
    and cast(q.period || '-01' as date) <= {{ as_of() }}
    and (q.version_ts is null or cast(q.version_ts as date) <= {{ as_of() }})
