-- Payment transactions per unit-month: successful ones, successful online ones, and all of them.
select
    unit_code,
    period,
    year,
    count(*) filter (where is_successful) as successful,
    count(*) filter (where is_successful and is_online) as successful_online,
    count(*) as transactions
from {{ ref('stg_payments__transactions') }}
group by unit_code, period, year
