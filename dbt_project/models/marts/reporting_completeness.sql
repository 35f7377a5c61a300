-- Reporting completeness and timeliness of the monthly dossiers feed per unit-year (kpis.md).
with expected as (
    select
        unit_code,
        year,
        count(*) as expected,
        count(*) filter (where is_received) as received,
        count(*) filter (where is_on_time) as on_time
    from {{ ref('int_reporting__unit_month') }}
    group by unit_code, year
)

select
    c.year,
    c.unit_code,
    'dossiers' as feed,
    coalesce(e.expected, 0) as expected,
    coalesce(e.received, 0) as received,
    coalesce(e.on_time, 0) as on_time,
    {{ ratio('e.received', 'e.expected') }} as completeness,
    {{ ratio('e.on_time', 'e.expected') }} as timeliness
from {{ ref('int_calendar__unit_years') }} as c
left join expected as e on c.unit_code = e.unit_code and c.year = e.year
