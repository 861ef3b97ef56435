with

rejected_records as (

    select * from {{ ref('stg_loader__rejected_records') }}

)

select
    rejected_records.rejected_record_id,
    rejected_records.source_system,
    rejected_records.source_instance,
    rejected_records.stream,
    rejected_records.record_id,
    rejected_records.reason,
    rejected_records.rejected_at,
    rejected_records.payload,
    rejected_records.batch_id

from rejected_records
