-- Every unit × programme year in which it was valid on at least one day, with the facts the ranking
-- needs: whether it existed for the whole year and the year's "last day" (as-of for the running year).
with years as (
    select y as year
    from {{ programme_years() }} as py
)

select
    u.unit_code,
    u.ranking_group,
    y.year,
    make_date(y.year, 1, 1) as year_start,
    least(make_date(y.year, 12, 31), {{ as_of() }}) as year_last_day,
    (u.valid_from is null or u.valid_from <= make_date(y.year, 1, 1))
    and (u.valid_to is null or u.valid_to >= make_date(y.year, 12, 31)) as whole_year,
    {{ month_deadline('make_date(y.year, 12, 1)') }} < {{ as_of() }} as year_is_over
from {{ ref('stg_registers__units') }} as u
cross join years as y
where {{ valid_during('u', 'make_date(y.year, 1, 1)', 'make_date(y.year, 12, 31)') }}
