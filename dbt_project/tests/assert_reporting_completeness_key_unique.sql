-- reporting_completeness has one row per year × unit_code × feed.
-- Returns every key that occurs more than once, with how often (no rows = pass).
{{ config(severity='error') }}

select
    year,
    unit_code,
    feed,
    count(*) as occurrences
from {{ ref('reporting_completeness') }}
group by year, unit_code, feed
having count(*) > 1
