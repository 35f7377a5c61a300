-- kpi_unit_month has one row per period × unit_code × kpi_code.
-- Returns every key that occurs more than once, with how often (no rows = pass).
{{ config(severity='error') }}

select
    period,
    unit_code,
    kpi_code,
    count(*) as occurrences
from {{ ref('kpi_unit_month') }}
group by period, unit_code, kpi_code
having count(*) > 1
