{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='milestone_key',
        full_refresh=false,
        unlogged=false,
    )
}}

with

milestones as (

    select * from {{ ref('int_milestones') }}

),

remembered as (

    {% if is_incremental() %}
        select * from {{ this }}
    {% else %}
        select
            cast(null as text) as milestone_key,
            cast(null as date) as baseline_date,
            cast(null as date) as first_seen_on,
            cast(null as date) as baseline_set_on

        where false
    {% endif %}

),

due_dates_seen as (

    select
        milestones.milestone_key,
        milestones.due_date,
        {{ run_date() }} as seen_on

    from milestones
    where milestones.due_date is not null

)

-- Only new milestones and baselines that move earlier are written; the rest stay as remembered.
select
    due_dates_seen.milestone_key,
    least(remembered.baseline_date, due_dates_seen.due_date) as baseline_date,
    coalesce(remembered.first_seen_on, due_dates_seen.seen_on) as first_seen_on,
    due_dates_seen.seen_on as baseline_set_on

from due_dates_seen
left join remembered
    on due_dates_seen.milestone_key = remembered.milestone_key
where
    remembered.milestone_key is null
    or due_dates_seen.due_date < remembered.baseline_date
