-- int_ranking__scores (published as marts.par_ranking) lists a unit at most once per year (a unit
-- belongs to one ranking group).
-- Returns every key that occurs more than once, with how often (no rows = pass).
{{ config(severity='error') }}

select
    year,
    unit_code,
    count(*) as occurrences
from {{ ref('int_ranking__scores') }}
group by year, unit_code
having count(*) > 1
