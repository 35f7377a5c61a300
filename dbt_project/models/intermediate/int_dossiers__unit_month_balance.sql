-- The balance of each unit-month's winning rows (quality.md, gap type `inconsistent`), one row per
-- unit-month with rows: how many rows fail the balance identity, and, for two consecutive months that
-- both have rows, how many stocks break — closing pending ≠ the next month's ton_ky_truoc, per
-- unit-procedure (per unit when either month came from a Biểu II.06a), counted on the later month
-- (null when the previous month has no rows: nothing to compare). The gap rows (int_gaps__consistency)
-- and the dossier_balance expectation suite both read this table: the rule has one implementation.
--
-- The winning rows (5.7 M at province scale) are read once, grouped by unit-month: the balance
-- failures, and a fingerprint of each month's procedure stocks — two sums of a 64-bit hash of
-- (procedure, stock) over the rows whose stock is not 0. When a month's closing fingerprint equals
-- the next month's opening fingerprint, every procedure carries the same stock over (a difference
-- would have to cancel out in two independent sums of hashes), so the pair has no break. Only the
-- other pairs (a handful; also any pair with a stock on a row without procedure code, which matches
-- nothing) are compared procedure by procedure, exactly as the rule reads.
with unit_months as (
    select
        unit_code,
        period,
        month_start,
        count(*) filter (where not balance_ok) as unbalanced_rows,
        string_agg(distinct procedure_code, ', ' order by procedure_code) filter (
            where not balance_ok
        ) as unbalanced_procedures,
        sum(cast(hash(procedure_code, opening_pending, 1) as hugeint)) filter (
            where opening_pending != 0
        ) as opening_print_1,
        sum(cast(hash(procedure_code, opening_pending, 2) as hugeint)) filter (
            where opening_pending != 0
        ) as opening_print_2,
        sum(cast(hash(procedure_code, pending_in_time + pending_overdue, 1) as hugeint)) filter (
            where pending_in_time + pending_overdue != 0
        ) as closing_print_1,
        sum(cast(hash(procedure_code, pending_in_time + pending_overdue, 2) as hugeint)) filter (
            where pending_in_time + pending_overdue != 0
        ) as closing_print_2,
        coalesce(bool_or(
            procedure_code is null
            and (opening_pending != 0 or pending_in_time + pending_overdue != 0)
        ), false) as has_stock_without_procedure
    from {{ ref('int_dossiers__winning_rows') }}
    group by unit_code, period, month_start
),

months as (
    select
        unit_code,
        month_start,
        period,
        from_human_report,
        data_rows,
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

-- pairs compared per unit (a Biểu II.06a on either side): one stock, broken or not
unit_breaks as (
    select
        unit_code,
        period,
        case when prev_closing != cur_opening then 1 else 0 end as stock_breaks,
        case
            when prev_closing != cur_opening
                then
                    'Tồn cuối tháng ' || strftime(prev_month, '%m/%Y') || ' là ' || prev_closing
                    || ' nhưng tồn kỳ trước tháng ' || strftime(month_start, '%m/%Y') || ' là ' || cur_opening
        end as detail
    from pairs
    where per_unit
),

-- pairs compared procedure by procedure: those whose stock was not carried over unchanged
suspect_pairs as (
    select
        p.unit_code,
        p.period,
        p.month_start,
        p.prev_month
    from pairs as p
    inner join unit_months as a on p.unit_code = a.unit_code and p.prev_month = a.month_start
    inner join unit_months as b on p.unit_code = b.unit_code and p.month_start = b.month_start
    where
        not p.per_unit
        and (
            a.has_stock_without_procedure
            or b.has_stock_without_procedure
            or a.closing_print_1 is distinct from b.opening_print_1
            or a.closing_print_2 is distinct from b.opening_print_2
        )
),

suspect_months as (
    select distinct
        unit_code,
        month_start
    from (
        select
            unit_code,
            prev_month as month_start
        from suspect_pairs
        union all
        select
            unit_code,
            month_start
        from suspect_pairs
    ) as m
),

proc_rows as (
    select
        r.unit_code,
        r.procedure_code,
        r.month_start,
        sum(r.pending_in_time + r.pending_overdue) as closing,
        sum(r.opening_pending) as opening
    from {{ ref('int_dossiers__winning_rows') }} as r
    inner join suspect_months as s on r.unit_code = s.unit_code and r.month_start = s.month_start
    group by r.unit_code, r.procedure_code, r.month_start
),

-- each procedure of a suspect pair: its closing in the earlier month and its opening in the later one
-- (0 where it has no row); a stock on a row without procedure code stays on its own side (it matches
-- nothing)
proc_pairs as (
    select
        p.unit_code,
        p.period,
        p.prev_month,
        p.month_start,
        r.procedure_code,
        coalesce(sum(r.closing) filter (where r.month_start = p.prev_month), 0) as closing,
        coalesce(sum(r.opening) filter (where r.month_start = p.month_start), 0) as opening
    from suspect_pairs as p
    inner join proc_rows as r
        on p.unit_code = r.unit_code and (r.month_start = p.prev_month or r.month_start = p.month_start)
    group by
        p.unit_code, p.period, p.prev_month, p.month_start, r.procedure_code,
        case when r.procedure_code is null then r.month_start end
),

proc_breaks as (
    select
        unit_code,
        period,
        count(*) as stock_breaks,
        'Tồn cuối tháng ' || strftime(any_value(prev_month), '%m/%Y')
        || ' khác tồn kỳ trước tháng ' || strftime(any_value(month_start), '%m/%Y') || ' ở ' || count(*)
        || ' thủ tục: ' || string_agg(
            coalesce(procedure_code, '(không có mã thủ tục)') || ' (' || closing || ' → ' || opening || ')', ', '
            order by procedure_code, closing, opening
        ) as detail
    from proc_pairs
    where closing != opening
    group by unit_code, period
),

-- every compared month: its breaks (0 when each procedure's stock was carried over)
breaks as (
    select
        unit_code,
        period,
        stock_breaks,
        detail
    from unit_breaks
    union all
    select
        p.unit_code,
        p.period,
        coalesce(b.stock_breaks, 0) as stock_breaks,
        b.detail
    from pairs as p
    left join proc_breaks as b on p.unit_code = b.unit_code and p.period = b.period
    where not p.per_unit
)

select
    m.unit_code,
    m.period,
    m.month_start,
    h.from_human_report,
    h.data_rows,
    m.unbalanced_rows,
    case
        when m.unbalanced_rows > 0
            then
                'Số liệu không cân đối (tồn kỳ trước + tiếp nhận ≠ đã giải quyết + đang giải quyết + trả lại/rút) ở '
                || m.unbalanced_rows || ' dòng'
                || coalesce(': thủ tục ' || m.unbalanced_procedures, '')
    end as balance_detail,
    b.stock_breaks,
    b.detail as stock_break_detail
from unit_months as m
inner join months as h on m.unit_code = h.unit_code and m.period = h.period
left join breaks as b on m.unit_code = b.unit_code and m.period = b.period
