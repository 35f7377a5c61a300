-- kpi_province_year has one row per year × kpi_code (kpis.md, Row sets).
-- Returns every key that occurs more than once, with how often (no rows = pass).
{{ config(severity='error') }}

select
    year,
    kpi_code,
    count(*) as occurrences
from {{ ref('kpi_province_year') }}
group by year, kpi_code
having count(*) > 1
