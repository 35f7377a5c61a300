-- reporting_gaps has one row per (feed, unit_code, period, gap_type) (quality.md). A null unit_code
-- (unknown_unit rows, unreadable files) or period is a value of the key: group by puts nulls together.
-- Returns every key that occurs more than once, with how often (no rows = pass).
{{ config(severity='error') }}

select
    feed,
    unit_code,
    period,
    gap_type,
    count(*) as occurrences
from {{ ref('reporting_gaps') }}
group by feed, unit_code, period, gap_type
having count(*) > 1
