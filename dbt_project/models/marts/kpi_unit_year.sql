-- Every unit-grain KPI for every unit valid during the year (kpis.md, Row sets): numerator and
-- denominator 0 and value null where the unit has no data.
with kpis as (
    select kpi_code from {{ ref('kpi_definitions') }} where grains like '%unit_year%'
)

select
    c.year,
    c.unit_code,
    k.kpi_code,
    coalesce(x.numerator, 0)::double as numerator,
    coalesce(x.denominator, 0)::double as denominator,
    {{ ratio('coalesce(x.numerator, 0)', 'coalesce(x.denominator, 0)') }} as value
from {{ ref('int_calendar__unit_years') }} as c
cross join kpis as k
left join {{ ref('int_kpi__unit_year_components') }} as x
    on c.year = x.year and c.unit_code = x.unit_code and k.kpi_code = x.kpi_code
