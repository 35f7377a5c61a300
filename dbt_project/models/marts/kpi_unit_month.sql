-- The monthly KPIs for every unit valid in an expected month (kpis.md, Row sets).
with kpis as (
    select kpi_code from {{ ref('kpi_definitions') }} where grains like '%unit_month%'
)

select
    c.period,
    c.unit_code,
    k.kpi_code,
    coalesce(x.numerator, 0)::double as numerator,
    coalesce(x.denominator, 0)::double as denominator,
    {{ ratio('coalesce(x.numerator, 0)', 'coalesce(x.denominator, 0)') }} as value
from {{ ref('int_calendar__unit_months') }} as c
cross join kpis as k
left join {{ ref('int_kpi__unit_month_components') }} as x
    on c.period = x.period and c.unit_code = x.unit_code and k.kpi_code = x.kpi_code
where c.is_expected
