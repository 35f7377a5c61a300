-- One row per response id: the later export wins (sources.md), also when its row was quarantined
-- (macro later_export_wins). Answers are counted per question answered: 1–5 answered, 4–5 satisfied
-- (kpis.md). The phone number never entered the warehouse.
with ranked as (
    select * from {{ later_export_wins('surveys', 'ma_phieu', 'ngay_khao_sat') }} as latest
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
