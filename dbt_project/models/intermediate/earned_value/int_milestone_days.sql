{{ config(materialized='ephemeral') }}

{#- Milestones as the program and portfolio roll-ups count them. Until the `milestones_model_available`
    var is set to true (once fct_milestones is published), this is empty and the roll-ups count 0. -#}

{% if var('milestones_model_available', false) %}

    with

    milestones as (

        select * from {{ ref('fct_milestones') }}

    )

    select
        milestones.milestone_key,
        milestones.project_key,
        milestones.due_date,
        cast(milestones.completed_at at time zone 'UTC' as date) as completed_on

    from milestones

{% else %}

    select
        cast(null as text) as milestone_key,
        cast(null as text) as project_key,
        cast(null as date) as due_date,
        cast(null as date) as completed_on

    where false

{% endif %}
