-- Gap type `inconsistent` (quality.md): a loaded row whose balance identity fails; or, for two
-- consecutive months that both have rows, closing pending ≠ next month's ton_ky_truoc, per
-- unit-procedure (per unit when either month came from a Biểu II.06a), flagged on the later month.
-- The rule is computed per unit-month in int_dossiers__unit_month_balance; one gap row per unit-month
-- with a failure, its details joined.
with details as (
    select
        unit_code,
        period,
        balance_detail as detail
    from {{ ref('int_dossiers__unit_month_balance') }}
    where unbalanced_rows > 0
    union all
    select
        unit_code,
        period,
        stock_break_detail
    from {{ ref('int_dossiers__unit_month_balance') }}
    where stock_breaks > 0
)

select
    'dossiers' as feed,
    unit_code,
    period,
    'inconsistent' as gap_type,
    string_agg(detail, '; ' order by detail) as detail
from details
group by unit_code, period
