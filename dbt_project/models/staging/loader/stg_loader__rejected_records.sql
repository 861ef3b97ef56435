with

source as (

    select * from {{ source('loader', 'rejected_records') }}

),

renamed as (

    select
        source.rejected_id as rejected_record_id,
        source.source_system,
        source.source_instance,
        source.stream,
        source.record_id,
        source.reason,
        source.payload,
        source.batch_id,
        source.rejected_at

    from source

)

select * from renamed
