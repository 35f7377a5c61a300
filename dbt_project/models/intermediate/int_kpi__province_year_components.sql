-- Province numerators and denominators per year (kpis.md): Σ over units for unit-grain KPIs; the
-- catalogue KPIs and national ranks are province-level by definition.
with years as (
    select
        y as year,
        make_date(y, 1, 1) as year_start,
        least(make_date(y, 12, 31), {{ as_of() }}) as year_last_day
    from {{ programme_years() }} as py
),

catalogue as (
    select
        y.year,
        y.year_last_day,
        p.*
    from years as y
    inner join {{ ref('stg_registers__procedures') }} as p
        on {{ valid_during('p', 'y.year_start', 'y.year_last_day') }}
)

select
    year,
    kpi_code,
    sum(numerator) as numerator,
    sum(denominator) as denominator
from {{ ref('kpi_unit_year') }}
where kpi_code != 'online_payment_coverage'
group by year, kpi_code
union all
select
    year,
    'procedures_simplified_rate',
    count(*) filter (where simplified_year between {{ first_year() }} and year),
    count(*)
from catalogue
group by year
union all
select
    year,
    'online_payment_coverage',
    count(*) filter (where is_fee_bearing and online_payment_on <= year_last_day),
    count(*) filter (where is_fee_bearing)
from catalogue
group by year
union all
select
    year,
    'online_eligible_procedures_provided_rate',
    count(*) filter (
        where is_online_eligible and online_level != 'khong' and portal_integrated_on <= year_last_day
    ),
    count(*) filter (where is_online_eligible)
from catalogue
group by year
union all
select
    year,
    case index_code
        when 'PAR_INDEX' then 'par_index_national_rank'
        when 'PAPI' then 'papi_national_rank'
        when 'PCI' then 'pci_national_rank'
        when 'ICT_INDEX' then 'ict_index_national_rank'
    end,
    national_rank,
    null
from {{ ref('stg_national_indices__results') }}
where index_code in ('PAR_INDEX', 'PAPI', 'PCI', 'ICT_INDEX')
