-- National index results; per year × index the later export wins (sources.md).
select
    nam as year,
    chi_so as index_code,
    diem as score,
    thu_hang as national_rank,
    so_tinh as provinces_ranked,
    nguon as published_in
from {{ source('raw', 'national_indices') }}
where nam between {{ first_year() }} and year({{ as_of() }})
qualify row_number() over (partition by nam, chi_so order by sort_key desc, export_id desc) = 1
