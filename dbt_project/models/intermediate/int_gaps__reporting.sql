-- Gap types `missing` and `late` of the monthly dossiers feed (quality.md).
select
    'dossiers' as feed,
    unit_code,
    period,
    'missing' as gap_type,
    'Chưa gửi báo cáo hồ sơ TTHC tháng ' || strftime(month_start, '%m/%Y')
    || ' (hạn ' || strftime(deadline, '%d/%m/%Y') || ')' as detail
from {{ ref('int_reporting__unit_month') }}
where not has_version
union all
select
    'dossiers',
    unit_code,
    period,
    'late',
    case
        when export_date is null
            then
                'Báo cáo tháng ' || strftime(month_start, '%m/%Y')
                || ' (Biểu II.06a) không có dòng ngày tháng năm nên không xác định được ngày gửi'
        else
            'Báo cáo tháng ' || strftime(month_start, '%m/%Y') || ' xuất ngày '
            || strftime(export_date, '%d/%m/%Y') || ', quá hạn ' || strftime(deadline, '%d/%m/%Y')
            || ' ' || (export_date - deadline) || ' ngày'
    end
from {{ ref('int_reporting__unit_month') }}
where is_received and (export_date is null or export_date > deadline)
union all
-- a Biểu II.06a without a date line is late even before its month is expected (quality.md: "or a Biểu
-- II.06a without a date line"; kpis.md: "received but never on time"); a dated export of a month not yet
-- expected cannot be late (its date is at most the as-of date, before the deadline)
select
    'dossiers',
    s.unit_code,
    s.period,
    'late',
    'Báo cáo tháng ' || strftime(s.month_start, '%m/%Y')
    || ' (Biểu II.06a) không có dòng ngày tháng năm nên không xác định được ngày gửi'
from {{ ref('int_dossiers__unit_month_status') }} as s
left join {{ ref('int_calendar__unit_months') }} as c
    on s.unit_code = c.unit_code and s.period = c.period
where
    s.is_received
    and s.export_date is null
    and not coalesce(c.is_expected, false)
    and year(s.month_start) between {{ first_year() }} and year({{ as_of() }})
