with

source as (

    select * from {{ source('loader', 'load_batches') }}

),

renamed as (

    select
        source.batch_id,
        source.source_system,
        source.source_instance,
        source.stream,
        source.started_at,
        source.finished_at,
        source.status as batch_status,
        source.records_loaded,
        source.records_rejected,
        source.records_deleted,
        source.pages,
        source.watermark_from,
        source.watermark_to,
        source.error as error_message

    from source

)

select * from renamed
