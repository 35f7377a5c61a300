-- Numerators and denominators of every unit-grain KPI per unit-year (kpis.md). Flows are summed over
-- the months; the closing stock is that of the latest month of the year with loaded rows.
with dossier_year as (
    select
        unit_code,
        year,
        sum(resolved_early + resolved_on_time) as resolved_in_time,
        sum(resolved_early + resolved_on_time + resolved_late) as resolved_all,
        sum(received_online) as received_online,
        sum(received_total) as received_total,
        max(month_start) as closing_month
    from {{ ref('int_dossiers__unit_month') }}
    group by unit_code, year
),

closing as (
    select
        d.unit_code,
        d.year,
        m.pending_in_time,
        m.pending_in_time + m.pending_overdue as pending_all
    from dossier_year as d
    inner join {{ ref('int_dossiers__unit_month') }} as m
        on d.unit_code = m.unit_code and d.closing_month = m.month_start
),

coverage as (
    select
        f.unit_code,
        f.year,
        count(*) filter (where f.online_payment_on <= c.year_last_day) as numerator,
        count(*) as denominator
    from {{ ref('int_dossiers__unit_year_fee_procedures') }} as f
    inner join {{ ref('int_calendar__unit_years') }} as c on f.unit_code = c.unit_code and f.year = c.year
    group by f.unit_code, f.year
),

reporting as (
    select
        unit_code,
        year,
        count(*) filter (where is_received) as received,
        count(*) filter (where is_on_time) as on_time,
        count(*) as expected
    from {{ ref('int_reporting__unit_month') }}
    group by unit_code, year
)

select
    d.year,
    d.unit_code,
    'on_time_rate' as kpi_code,
    d.resolved_in_time + c.pending_in_time as numerator,
    d.resolved_all + c.pending_all as denominator
from dossier_year as d
inner join closing as c on d.unit_code = c.unit_code and d.year = c.year
union all
select
    year,
    unit_code,
    'online_dossier_rate',
    received_online,
    received_total
from dossier_year
union all
select
    year,
    unit_code,
    'online_payment_txn_rate',
    sum(successful_online),
    sum(successful)
from {{ ref('int_payments__unit_month') }}
group by year, unit_code
union all
select
    year,
    unit_code,
    'online_payment_coverage',
    numerator,
    denominator
from coverage
union all
select
    year,
    unit_code,
    kpi_code,
    numerator,
    denominator
from {{ ref('int_surveys__unit_year') }}
union all
select
    year,
    unit_code,
    kpi_code,
    sum(numerator),
    sum(denominator)
from {{ ref('stg_self_report__indicators') }}
group by year, unit_code, kpi_code
union all
select
    year,
    unit_code,
    'reporting_completeness',
    received,
    expected
from reporting
union all
select
    year,
    unit_code,
    'reporting_timeliness',
    on_time,
    expected
from reporting
