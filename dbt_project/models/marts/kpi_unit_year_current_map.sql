-- kpi_unit_year restated on today's map: each unit's numerators and denominators are added to its
-- final successor (kpis.md, Units that merge).
select
    k.year,
    m.current_unit_code as unit_code,
    k.kpi_code,
    sum(k.numerator) as numerator,
    sum(k.denominator) as denominator,
    {{ ratio('sum(k.numerator)', 'sum(k.denominator)') }} as value,
    count(*) as units_rolled_up
from {{ ref('kpi_unit_year') }} as k
inner join {{ ref('int_units__current_map') }} as m on k.unit_code = m.unit_code
group by k.year, m.current_unit_code, k.kpi_code
