-- Every loaded dossier row of every export (all versions), within the programme years and the as-of
-- date: rows dated after PAR_AS_OF are ignored (kpis.md Conventions).
with rows as (
    select
        d.export_id,
        d.row_number,
        d.file_name,
        d.sort_key,
        d.source_format,
        d.ky_bao_cao as period,
        cast(d.ky_bao_cao || '-01' as date) as month_start,
        d.ma_don_vi as unit_code,
        d.ma_thu_tuc as procedure_code,
        d.ton_ky_truoc as opening_pending,
        d.tiep_nhan_truc_tuyen as received_online,
        d.tiep_nhan_truc_tiep as received_in_person,
        d.tiep_nhan_buu_chinh as received_postal,
        d.da_giai_quyet_truoc_han as resolved_early,
        d.da_giai_quyet_dung_han as resolved_on_time,
        d.da_giai_quyet_qua_han as resolved_late,
        d.dang_giai_quyet_trong_han as pending_in_time,
        d.dang_giai_quyet_qua_han as pending_overdue,
        d.tra_lai_rut as returned_withdrawn,
        d.ngay_xuat as exported_at,
        d.ten_don_vi_as_sent as unit_name_as_sent
    from {{ source('raw', 'dossiers') }} as d
)

select
    *,
    opening_pending + received_online + received_in_person + received_postal
    = resolved_early + resolved_on_time + resolved_late + pending_in_time + pending_overdue
    + returned_withdrawn
    and returned_withdrawn >= 0 as balance_ok
from rows
where
    year(month_start) between {{ first_year() }} and year({{ as_of() }})
    and month_start <= {{ as_of() }}
    and (exported_at is null or cast(exported_at as date) <= {{ as_of() }})
