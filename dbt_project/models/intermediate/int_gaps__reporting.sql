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
