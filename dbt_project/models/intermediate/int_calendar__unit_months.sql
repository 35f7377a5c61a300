-- Every unit × every month (programme start .. the as-of month) in which the unit was valid, with the
-- month's reporting deadline and whether it is expected yet (deadline before the as-of date).
with months as (
    select cast(m as date) as month_start
    from unnest(generate_series(
        make_date({{ first_year() }}, 1, 1),
        cast(date_trunc('month', {{ as_of() }}) as date),
        interval 1 month
    )) as t (m)
)

select
    u.unit_code,
    strftime(m.month_start, '%Y-%m') as period,
    m.month_start,
    year(m.month_start) as year,
    {{ month_deadline('m.month_start') }} as deadline,
    {{ month_deadline('m.month_start') }} < {{ as_of() }} as is_expected
from {{ ref('stg_registers__units') }} as u
cross join months as m
where {{ valid_during('u', 'm.month_start', 'last_day(m.month_start)') }}
