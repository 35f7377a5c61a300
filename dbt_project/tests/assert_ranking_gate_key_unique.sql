-- ranking_gate has one row per year × check (1–4).
-- Returns every key that occurs more than once, with how often (no rows = pass).
{{ config(severity='error') }}

select
    year,
    check_id,
    count(*) as occurrences
from {{ ref('ranking_gate') }}
group by year, check_id
having count(*) > 1
