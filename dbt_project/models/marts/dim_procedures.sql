-- The procedure catalogue as analysts read it.
select * from {{ ref('stg_registers__procedures') }}
