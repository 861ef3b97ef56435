with

source as (

    select * from {{ ref('person_identity_map') }}

),

renamed as (

    select
        lower(trim(source.tool)) as source_system,
        trim(source.account_id) as account_id,
        {{ clean_email('source.email') }} as email

    from source

)

select * from renamed
