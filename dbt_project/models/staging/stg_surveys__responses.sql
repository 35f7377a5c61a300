-- One row per response id: the later export wins (sources.md), also when its row was quarantined
-- (then the response counts nowhere). Answers are counted per question answered: 1–5 answered,
-- 4–5 satisfied (kpis.md). The phone number never entered the warehouse.
with export_order as (
    -- exports ranked in "later export wins" order; integers keep the per-id aggregate small
    select
        export_id,
        dense_rank() over (order by sort_key, export_id) as export_rank
    from {{ source('raw', 'exports') }}
    where feed = 'surveys'
),

versions as (
    select
        t.ma_phieu as response_id,
        o.export_rank
    from {{ source('raw', 'surveys') }} as t
    inner join export_order as o on t.export_id = o.export_id
    union all
    select
        nullif(trim(json_extract_string(q.record, '$.ma_phieu')), '') as response_id,
        o.export_rank
    from {{ source('raw', 'quarantine_rows') }} as q
    inner join export_order as o on q.export_id = o.export_id
    where q.feed = 'surveys'
),

winners as (
    select
        response_id,
        max(export_rank) as export_rank
    from versions
    where response_id is not null
    group by response_id
),

-- a loaded row survives when its export is the id's latest version (an id is never both loaded and
-- quarantined within one export, so a quarantined latest version leaves no row)
ranked as (
    select t.*
    from {{ source('raw', 'surveys') }} as t
    inner join export_order as o on t.export_id = o.export_id
    inner join winners as w on t.ma_phieu = w.response_id and o.export_rank = w.export_rank
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
