-- Self-reported indicators. The unit of replacement is the unit-year (sources.md): the export that
-- sorts last among those carrying rows (loaded or quarantined) of a unit-year supplies all of them.
with carriers as (
    select
        nam as year,
        ma_don_vi as unit_code,
        export_id,
        sort_key
    from {{ source('raw', 'self_report') }}
    union all
    select
        cast(q.period as integer),
        q.unit_code,
        q.export_id,
        e.sort_key
    from {{ source('raw', 'quarantine_rows') }} as q
    inner join {{ source('raw', 'exports') }} as e on q.export_id = e.export_id
    where q.feed = 'self_report' and q.unit_code is not null and regexp_full_match(q.period, '[0-9]{4}')
),

winners as (
    select
        year,
        unit_code,
        arg_max(export_id, sort_key || '|' || export_id) as export_id
    from carriers
    group by year, unit_code
)

select
    s.export_id,
    s.nam as year,
    s.ma_don_vi as unit_code,
    s.ma_chi_tieu as kpi_code,
    s.tu_so as numerator,
    s.mau_so as denominator,
    s.ghi_chu as note
from {{ source('raw', 'self_report') }} as s
inner join winners as w on s.nam = w.year and s.ma_don_vi = w.unit_code and s.export_id = w.export_id
where s.nam between {{ first_year() }} and year({{ as_of() }})
