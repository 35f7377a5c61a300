-- One row per response id: the later export wins (sources.md), also when its row was quarantined
-- (then the response counts nowhere). Answers are counted per question answered: 1–5 answered,
-- 4–5 satisfied (kpis.md). The phone number never entered the warehouse.
with versions as (
    select
        ma_phieu as response_id,
        export_id,
        sort_key,
        false as is_quarantined
    from {{ source('raw', 'surveys') }}
    union all
    select
        nullif(trim(json_extract_string(q.record, '$.ma_phieu')), '') as response_id,
        q.export_id,
        e.sort_key,
        true as is_quarantined
    from {{ source('raw', 'quarantine_rows') }} as q
    inner join {{ source('raw', 'exports') }} as e on q.export_id = e.export_id
    where q.feed = 'surveys'
),

winners as (
    select
        response_id,
        arg_max(export_id, sort_key || '|' || export_id) as export_id,
        arg_max(is_quarantined, sort_key || '|' || export_id) as is_quarantined
    from versions
    where response_id is not null
    group by response_id
),

ranked as (
    select s.*
    from {{ source('raw', 'surveys') }} as s
    inner join winners as w
        on s.ma_phieu = w.response_id and s.export_id = w.export_id and not w.is_quarantined
),

answers as (
    select
        *,
        list_filter([q1, q2, q3, q4, q5, q6, q7, q8, q9, q10], x -> x is not null) as answered
    from ranked
)

select
    export_id,
    ma_phieu as response_id,
    loai_khao_sat as survey_type,
    ma_don_vi as unit_code,
    linh_vuc as field,
    ngay_khao_sat as surveyed_on,
    year(ngay_khao_sat) as year,
    strftime(ngay_khao_sat, '%Y-%m') as period,
    kenh as channel,
    len(answered) as answers,
    len(list_filter(answered, x -> x >= 4)) as satisfied_answers
from answers
where ngay_khao_sat <= {{ as_of() }} and year(ngay_khao_sat) >= {{ first_year() }}
