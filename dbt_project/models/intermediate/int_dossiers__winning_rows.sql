-- The unit-month's data: the winning version's loaded rows (kpis.md, Versions). A view: writing the
-- 5.7 M rows out (province scale) cost more each night than joining them again in the four models
-- and the dossier_balance check that read them (the versions table is small).
{{ config(materialized='view') }}
select r.*
from {{ ref('stg_dossiers__rows') }} as r
inner join {{ ref('int_dossiers__versions') }} as v
    on
        r.unit_code = v.unit_code
        and r.period = v.period
        and r.export_id = v.export_id
        and v.version_rank = 1
