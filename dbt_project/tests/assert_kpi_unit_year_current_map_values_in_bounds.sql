-- Every KPI of kpi_unit_year_current_map is a fraction (kpis.md): 0 ≤ numerator ≤ denominator and, where the
-- denominator is not 0, 0 ≤ value ≤ 1 (the ranking gate's check 4, quality.md).
-- Severity warn: the gate is what blocks the ranking; an error here would make dbt build skip
-- ranking_gate, and the run could no longer say which check blocked the year.
{{ config(severity='warn') }}

select
    year,
    unit_code,
    kpi_code,
    numerator,
    denominator,
    value
from {{ ref('kpi_unit_year_current_map') }}
where
    numerator < 0
    or numerator > denominator
    or value < 0
    or value > 1
    or (denominator > 0 and value is null)
