-- kpi_province_year: every KPI except the national ranks is a fraction — 0 ≤ numerator ≤ denominator,
-- 0 ≤ value ≤ 1 and a fraction target within [0, 1]; a national rank (value = numerator = thu_hang,
-- denominator null) is at least 1 (kpis.md; the ranking gate's check 4, quality.md).
-- Severity warn: the gate is what blocks the ranking (see the _marts.yml header).
{{ config(severity='warn') }}

select
    year,
    kpi_code,
    numerator,
    denominator,
    value,
    target
from {{ ref('kpi_province_year') }}
where
    case
        when kpi_code like '%_national_rank'
            then value < 1 or denominator is not null or value != numerator
        else
            numerator < 0
            or numerator > denominator
            or value < 0
            or value > 1
            or target < 0
            or target > 1
    end
