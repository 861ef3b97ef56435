with

source as (

    select * from {{ ref('portfolio_register') }}

),

renamed as (

    select
        {{ typed_field_columns(portfolio_register_fields(), "source.{field}") }}

    from source

)

select * from renamed
