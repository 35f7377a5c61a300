-- Reporting status of every expected unit-month (kpis.md, Reporting): expected, received, on time.
select
    c.unit_code,
    c.period,
    c.month_start,
    c.year,
    c.deadline,
    s.unit_code is not null as has_version,
    coalesce(s.is_received, false) as is_received,
    coalesce(s.is_received and s.export_date <= c.deadline, false) as is_on_time,
    s.export_date,
    s.versions,
    s.winning_format,
    s.version_files
from {{ ref('int_calendar__unit_months') }} as c
left join {{ ref('int_dossiers__unit_month_status') }} as s
    on c.unit_code = s.unit_code and c.period = s.period
where c.is_expected
