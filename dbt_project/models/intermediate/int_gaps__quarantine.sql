-- Gap types `invalid` and `unknown_unit` (quality.md): quarantined rows per unit and period, and
-- exports that could not be read at all (unit_code null, the file named in the detail).
with rows as (
    select
        q.feed,
        q.unit_code,
        q.unit_as_sent,
        coalesce(q.period, regexp_extract(q.file_name, '([0-9]{4}-[0-9]{2}|[0-9]{4})', 1)) as period,
        q.reason_code,
        q.reason,
        q.file_name,
        q.row_number,
        e.report_kind
    from {{ source('raw', 'quarantine_rows') }} as q
    inner join {{ source('raw', 'exports') }} as e on q.export_id = e.export_id
    where q.version_ts is null or cast(q.version_ts as date) <= {{ as_of() }}
),

in_scope as (
    select *
    from rows
    where
        period is null or period = ''
        or (
            cast(left(period, 4) as integer) between {{ first_year() }} and year({{ as_of() }})
            and (length(period) = 4 or cast(period || '-01' as date) <= {{ as_of() }})
        )
),

invalid_rows as (
    select
        feed,
        unit_code,
        nullif(period, '') as period,
        'invalid' as gap_type,
        -- ordered: the detail text must not depend on how DuckDB happens to scan (same data, same marts)
        count(*) || ' dòng bị loại: '
        || string_agg(
            distinct reason || ' (tệp ' || file_name || ')', '; '
            order by reason || ' (tệp ' || file_name || ')'
        ) as detail
    from in_scope
    where reason_code != 'unknown_unit'
    group by feed, unit_code, nullif(period, '')
),

unknown_units as (
    select
        feed,
        cast(null as varchar) as unit_code,
        nullif(period, '') as period,
        'unknown_unit' as gap_type,
        string_agg(distinct named, '; ' order by named) as detail
    from (
        select
            *,
            case
                when report_kind = 'human' then 'tên đơn vị ''' || coalesce(unit_as_sent, '') || ''''
                else 'mã đơn vị ''' || coalesce(unit_as_sent, '') || ''''
            end || ' (' || reason || '; tệp ' || file_name || ')' as named
        from in_scope
    ) as named_rows
    where reason_code = 'unknown_unit'
    group by feed, nullif(period, '')
),

unreadable as (
    select
        feed,
        cast(null as varchar) as unit_code,
        nullif(regexp_extract(file_name, '([0-9]{4}-[0-9]{2}|[0-9]{4})', 1), '') as period,
        'invalid' as gap_type,
        'Tệp ' || file_name || ' không đọc được: ' || parse_reason as detail
    from {{ source('raw', 'exports') }}
    where parse_status = 'quarantined'
)

select * from unknown_units
union all
-- one row per (feed, unit_code, period, gap_type): quarantined rows without a unit and unreadable files
-- of the same feed and period share a key, and share its row
select
    feed,
    unit_code,
    period,
    gap_type,
    string_agg(detail, '; ' order by detail) as detail
from (
    select * from invalid_rows
    union all
    select * from unreadable
) as invalid
group by feed, unit_code, period, gap_type
