-- kpi_unit_year has one row per year × unit_code × kpi_code.
-- Returns every key that occurs more than once, with how often (no rows = pass).
{{ config(severity='error') }}

select
    year,
    unit_code,
    kpi_code,
    count(*) as occurrences
from {{ ref('kpi_unit_year') }}
group by year, unit_code, kpi_code
having count(*) > 1
