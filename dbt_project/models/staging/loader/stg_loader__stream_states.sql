with

source as (

    select * from {{ source('loader', 'stream_state') }}

),

renamed as (

    select
        source.source_system,
        source.source_instance,
        source.stream,
        source.last_success_at,
        source.last_batch_id,
        source.updated_at as state_updated_at

    from source

)

select * from renamed
