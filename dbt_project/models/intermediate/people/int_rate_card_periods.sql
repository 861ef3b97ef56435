with

smartsheet_rate_card_rows as (

    select * from {{ ref('stg_smartsheet__rate_card_rows') }}

),

csv_rate_card_rows as (

    select * from {{ ref('stg_csv__rate_card_rows') }}

),

rate_card_rows as (

    select
        'smartsheet' as rate_card_source,
        1 as source_preference,
        smartsheet_rate_card_rows.email,
        smartsheet_rate_card_rows.role,
        smartsheet_rate_card_rows.hourly_rate,
        smartsheet_rate_card_rows.weekly_capacity_hours,
        smartsheet_rate_card_rows.effective_from,
        smartsheet_rate_card_rows.row_id

    from smartsheet_rate_card_rows
    where not smartsheet_rate_card_rows.is_deleted

    union all

    select
        'csv' as rate_card_source,
        2 as source_preference,
        csv_rate_card_rows.email,
        csv_rate_card_rows.role,
        csv_rate_card_rows.hourly_rate,
        csv_rate_card_rows.weekly_capacity_hours,
        csv_rate_card_rows.effective_from,
        cast(null as text) as row_id

    from csv_rate_card_rows

),

ranked as (

    -- One row per person and effective date: the Smartsheet rate card's before the CSV file's.
    select
        rate_card_rows.*,
        row_number() over (
            partition by rate_card_rows.email, rate_card_rows.effective_from
            order by rate_card_rows.source_preference asc, rate_card_rows.row_id asc
        ) as duplicate_rank

    from rate_card_rows
    where
        rate_card_rows.email is not null
        and rate_card_rows.effective_from is not null

)

select
    ranked.email,
    ranked.effective_from,
    lead(ranked.effective_from) over (
        partition by ranked.email
        order by ranked.effective_from asc
    ) as effective_to,
    ranked.role,
    cast(ranked.hourly_rate as numeric(18, 2)) as hourly_rate,
    cast(ranked.weekly_capacity_hours as numeric(12, 2)) as weekly_capacity_hours,
    ranked.rate_card_source

from ranked
where ranked.duplicate_rank = 1
