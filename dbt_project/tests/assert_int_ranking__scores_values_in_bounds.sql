-- int_ranking__scores (published as marts.par_ranking): score within [0, 100], points never
-- negative, a positive applicable maximum, and a rank and a grade either both present (a unit that
-- existed for the whole year) or both null (ranking.md).
{{ config(severity='error') }}

select
    year,
    ranking_group,
    unit_code,
    score,
    rank,
    grade,
    applicable_max
from {{ ref('int_ranking__scores') }}
where
    score < 0
    or score > 100
    or least(points_tien_do, points_truc_tuyen, points_hai_long, points_bao_cao) < 0
    or points_thanh_toan < 0
    or applicable_max <= 0
    or (rank is null) != (grade is null)
    or rank < 1
