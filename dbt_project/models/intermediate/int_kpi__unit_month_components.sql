-- Numerators and denominators of the three monthly KPIs per unit-month (kpis.md, Definitions).
select
    period,
    unit_code,
    'on_time_rate' as kpi_code,
    resolved_early + resolved_on_time + pending_in_time as numerator,
    resolved_early + resolved_on_time + resolved_late + pending_in_time + pending_overdue as denominator
from {{ ref('int_dossiers__unit_month') }}
union all
select
    period,
    unit_code,
    'online_dossier_rate',
    received_online,
    received_total
from {{ ref('int_dossiers__unit_month') }}
union all
select
    period,
    unit_code,
    'online_payment_txn_rate',
    successful_online,
    successful
from {{ ref('int_payments__unit_month') }}
