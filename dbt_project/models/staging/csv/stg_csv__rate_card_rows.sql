with

source as (

    select * from {{ ref('rate_card') }}

),

renamed as (

    select
        {{ typed_field_columns(rate_card_fields(), "source.{field}") }}

    from source

)

select * from renamed
