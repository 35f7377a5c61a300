-- Warning gap types `outlier`, `small_sample`, `cross_source` and `revised` (quality.md).
with history as (
    select
        cur.unit_code,
        cur.period,
        cur.received_total as x,
        h.received_total as xi
    from {{ ref('int_dossiers__unit_month') }} as cur
    inner join {{ ref('int_dossiers__unit_month') }} as h
        on
            cur.unit_code = h.unit_code
            and h.month_start between cur.month_start - interval 12 month and cur.month_start - interval 1 month
),

medians as (
    select
        unit_code,
        period,
        any_value(x) as x,
        count(*) as n,
        quantile_cont(xi, 0.5) as med
    from history
    group by unit_code, period
    having count(*) >= 6
),

spread as (
    select
        m.unit_code,
        m.period,
        m.x,
        m.n,
        m.med,
        quantile_cont(abs(h.xi - m.med), 0.5) as mad,
        avg(abs(h.xi - m.med)) as mean_ad
    from medians as m
    inner join history as h on m.unit_code = h.unit_code and m.period = h.period
    group by m.unit_code, m.period, m.x, m.n, m.med
),

scored as (
    select
        *,
        case
            when mad != 0 then 0.6745 * (x - med) / mad
            when mean_ad != 0 then 0.7979 * (x - med) / mean_ad
        end as m_score
    from spread
),

outliers as (
    select
        'dossiers' as feed,
        unit_code,
        period,
        'outlier' as gap_type,
        'Tổng hồ sơ tiếp nhận tháng ' || period || ' là ' || x || ', bất thường so với ' || n
        || ' tháng trước (trung vị ' || med || coalesce(', điểm z hiệu chỉnh ' || round(m_score, 2), '')
        || ')' as detail
    from scored
    where case when m_score is null then x != med else abs(m_score) > 3.5 end
),

sipas as (
    select
        unit_code,
        year,
        count(*) as responses
    from {{ ref('stg_surveys__responses') }}
    where survey_type = 'sipas'
    group by unit_code, year
),

small_samples as (
    select
        'surveys' as feed,
        c.unit_code,
        cast(c.year as varchar) as period,
        'small_sample' as gap_type,
        'Chỉ có ' || coalesce(s.responses, 0) || ' phiếu khảo sát SIPAS năm ' || c.year
        || ' (cần ít nhất 30)' as detail
    from {{ ref('int_calendar__unit_years') }} as c
    left join sipas as s on c.unit_code = s.unit_code and c.year = s.year
    where
        c.ranking_group in ('so_nganh', 'nganh_doc', 'ubnd_huyen', 'ubnd_xa')
        and coalesce(s.responses, 0) < 30
),

cross_source as (
    select
        'dossiers' as feed,
        p.unit_code,
        p.period,
        'cross_source' as gap_type,
        p.successful_online || ' giao dịch thanh toán trực tuyến thành công trong tháng ' || p.period
        || ' nhưng báo cáo không có hồ sơ tiếp nhận nào' as detail
    from {{ ref('int_payments__unit_month') }} as p
    left join {{ ref('int_dossiers__unit_month') }} as d on p.unit_code = d.unit_code and p.period = d.period
    where p.successful_online >= 1 and coalesce(d.received_total, 0) = 0
),

self_report_versions as (
    -- a version's content: identical rows are one (sources.md), so a re-sent identical export is no
    -- revision
    select
        year,
        unit_code,
        export_id,
        any_value(file_name) as file_name,
        string_agg(content, '|' order by content) as fingerprint
    from (
        select
            s.nam as year,
            s.ma_don_vi as unit_code,
            s.export_id,
            s.file_name,
            s.ma_chi_tieu || '=' || s.tu_so || '/' || s.mau_so || ':' || coalesce(s.ghi_chu, '') as content
        from {{ source('raw', 'self_report') }} as s
        union all
        select
            cast(q.period as integer) as year,
            q.unit_code,
            q.export_id,
            q.file_name,
            'quarantined:' || q.record as content
        from {{ source('raw', 'quarantine_rows') }} as q
        where q.feed = 'self_report' and q.unit_code is not null and regexp_full_match(q.period, '[0-9]{4}')
    ) as carried
    where year between {{ first_year() }} and year({{ as_of() }})
    group by year, unit_code, export_id
),

revised as (
    select
        'dossiers' as feed,
        unit_code,
        period,
        'revised' as gap_type,
        'Tháng ' || period || ' có ' || versions || ' phiên bản báo cáo (' || version_files
        || '); số liệu lấy từ ' || winning_file_name as detail
    from {{ ref('int_dossiers__unit_month_status') }}
    where versions > 1
    union all
    select
        'self_report',
        unit_code,
        cast(year as varchar),
        'revised',
        'Năm ' || year || ' có ' || count(distinct fingerprint) || ' phiên bản báo cáo tự đánh giá khác nhau ('
        || string_agg(file_name, ', ' order by file_name) || ')'
    from self_report_versions
    group by unit_code, year
    having count(distinct fingerprint) > 1
)

select * from outliers
union all
select * from small_samples
union all
select * from cross_source
union all
select * from revised
