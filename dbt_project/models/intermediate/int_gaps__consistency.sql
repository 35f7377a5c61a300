-- Gap type `inconsistent` (quality.md): a loaded row whose balance identity fails; or, for two
-- consecutive months that both have rows, closing pending ≠ next month's ton_ky_truoc, per
-- unit-procedure (per unit when either month came from a Biểu II.06a), flagged on the later month.
with balance as (
    select
        unit_code,
        period,
        'Số liệu không cân đối (tồn kỳ trước + tiếp nhận ≠ đã giải quyết + đang giải quyết + trả lại/rút) ở '
        || count(*) || ' dòng'
        || coalesce(': thủ tục ' || string_agg(distinct procedure_code, ', ' order by procedure_code), '') as detail
    from {{ ref('int_dossiers__winning_rows') }}
    where not balance_ok
    group by unit_code, period
),

months as (
    select
        unit_code,
        month_start,
        period,
        from_human_report,
        pending_in_time + pending_overdue as closing,
        opening_pending as opening
    from {{ ref('int_dossiers__unit_month') }}
),

pairs as (
    select
        prev.unit_code,
        cur.period,
        cur.month_start,
        prev.month_start as prev_month,
        prev.from_human_report or cur.from_human_report as per_unit,
        prev.closing as prev_closing,
        cur.opening as cur_opening
    from months as prev
    inner join months as cur
        on prev.unit_code = cur.unit_code and cur.month_start = prev.month_start + interval 1 month
),

unit_breaks as (
    select
        unit_code,
        period,
        'Tồn cuối tháng ' || strftime(prev_month, '%m/%Y') || ' là ' || prev_closing
        || ' nhưng tồn kỳ trước tháng ' || strftime(month_start, '%m/%Y') || ' là ' || cur_opening as detail
    from pairs
    where per_unit and prev_closing != cur_opening
),

proc_rows as (
    select
        unit_code,
        procedure_code,
        month_start,
        sum(pending_in_time + pending_overdue) as closing,
        sum(opening_pending) as opening
    from {{ ref('int_dossiers__winning_rows') }}
    group by unit_code, procedure_code, month_start
),

prev_side as (
    select
        p.unit_code,
        p.period,
        p.prev_month,
        p.month_start,
        r.procedure_code,
        r.closing
    from pairs as p
    inner join proc_rows as r on p.unit_code = r.unit_code and p.prev_month = r.month_start
    where not p.per_unit
),

cur_side as (
    select
        p.unit_code,
        p.period,
        p.prev_month,
        p.month_start,
        r.procedure_code,
        r.opening
    from pairs as p
    inner join proc_rows as r on p.unit_code = r.unit_code and p.month_start = r.month_start
    where not p.per_unit
),

proc_pairs as (
    select
        coalesce(a.unit_code, b.unit_code) as unit_code,
        coalesce(a.period, b.period) as period,
        coalesce(a.prev_month, b.prev_month) as prev_month,
        coalesce(a.month_start, b.month_start) as month_start,
        coalesce(a.procedure_code, b.procedure_code) as procedure_code,
        coalesce(a.closing, 0) as closing,
        coalesce(b.opening, 0) as opening
    from prev_side as a
    full outer join cur_side as b
        on
            a.unit_code = b.unit_code
            and a.month_start = b.month_start
            and a.procedure_code = b.procedure_code
),

proc_breaks as (
    select
        unit_code,
        period,
        'Tồn cuối tháng ' || strftime(any_value(prev_month), '%m/%Y')
        || ' khác tồn kỳ trước tháng ' || strftime(any_value(month_start), '%m/%Y') || ' ở ' || count(*)
        || ' thủ tục: ' || string_agg(
            procedure_code || ' (' || closing || ' → ' || opening || ')', ', ' order by procedure_code
        ) as detail
    from proc_pairs
    where closing != opening
    group by unit_code, period
),

all_breaks as (
    select * from balance
    union all
    select * from unit_breaks
    union all
    select * from proc_breaks
)

select
    'dossiers' as feed,
    unit_code,
    period,
    'inconsistent' as gap_type,
    string_agg(detail, '; ' order by detail) as detail
from all_breaks
group by unit_code, period
