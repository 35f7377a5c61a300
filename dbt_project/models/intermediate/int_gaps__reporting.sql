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
-- late: a received unit-month whose export date is after its deadline, or a Biểu II.06a without a date
-- line (kpis.md: "received but never on time"), whether or not the month is expected yet; a month not
-- expected yet has a deadline after the as-of date, so only an undated report can be late there
select
    'dossiers',
    s.unit_code,
    s.period,
    'late',
    case
        when s.export_date is null
            then
                'Báo cáo tháng ' || strftime(s.month_start, '%m/%Y')
                || ' (Biểu II.06a) không có dòng ngày tháng năm nên không xác định được ngày gửi'
        else
            'Báo cáo tháng ' || strftime(s.month_start, '%m/%Y') || ' xuất ngày '
            || strftime(s.export_date, '%d/%m/%Y') || ', quá hạn ' || strftime(c.deadline, '%d/%m/%Y')
            || ' ' || (s.export_date - c.deadline) || ' ngày'
    end
from {{ ref('int_dossiers__unit_month_status') }} as s
inner join {{ ref('int_calendar__unit_months') }} as c
    on s.unit_code = c.unit_code and s.period = c.period
where s.is_received and (s.export_date is null or s.export_date > c.deadline)
