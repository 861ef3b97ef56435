{#- The body of fct_program_daily and fct_portfolio_daily: the project days of each program (or
    portfolio) summed, then divided (never an average of the projects' ratios), with health counts,
    milestones due and missed, and the same health bands as the project mart. -#}
{% macro rollup_daily(level) -%}
    {%- if level not in ('program', 'portfolio') -%}
        {{ exceptions.raise_compiler_error("rollup_daily rolls up to 'program' or 'portfolio', got '" ~ level ~ "'") }}
    {%- endif %}
with

project_days as (

    select * from {{ ref('fct_project_daily') }}

),

projects as (

    select * from {{ ref('dim_project') }}

),

milestones as (

    select * from {{ ref('int_milestone_days') }}

),

{{ level }}_days as (

    select
        projects.{{ level }}_key,
        project_days.date_day,
{%- if level == 'portfolio' %}
        count(distinct projects.program_key) as programs_total,
{%- endif %}
        count(*) as projects_total,
        count(*) filter (where project_days.overall_health = 'green') as projects_green,
        count(*) filter (where project_days.overall_health = 'amber') as projects_amber,
        count(*) filter (where project_days.overall_health = 'red') as projects_red,
        count(*) filter (where project_days.overall_health = 'grey') as projects_grey,
        sum(project_days.bac) as bac,
        sum(project_days.pv) as pv,
        sum(project_days.ev) as ev,
        sum(project_days.ac) as ac,
        sum(project_days.eac) as eac,
        sum(project_days.etc) as etc

    from project_days
    inner join projects
        on project_days.project_key = projects.project_key
    group by projects.{{ level }}_key, project_days.date_day

),

milestone_events as (

    select
        projects.{{ level }}_key,
        milestones.due_date as event_day,
        1 as due_change,
        0 as missed_change

    from milestones
    inner join projects
        on milestones.project_key = projects.project_key
    where milestones.due_date is not null

    union all

    -- A milestone not done by its due date is missed from the next day on.
    select
        projects.{{ level }}_key,
        milestones.due_date + 1 as event_day,
        0 as due_change,
        1 as missed_change

    from milestones
    inner join projects
        on milestones.project_key = projects.project_key
    where
        milestones.due_date is not null
        and (milestones.completed_on is null or milestones.completed_on > milestones.due_date)

),

first_{{ level }}_days as (

    select
        {{ level }}_days.{{ level }}_key,
        min({{ level }}_days.date_day) as first_day

    from {{ level }}_days
    group by {{ level }}_days.{{ level }}_key

),

milestone_daily_changes as (

    -- Changes before a {{ level }}'s first day are moved onto it, so the running counts include them.
    select
        milestone_events.{{ level }}_key,
        greatest(milestone_events.event_day, first_{{ level }}_days.first_day) as date_day,
        sum(milestone_events.due_change) as due_change,
        sum(milestone_events.missed_change) as missed_change

    from milestone_events
    inner join first_{{ level }}_days
        on milestone_events.{{ level }}_key = first_{{ level }}_days.{{ level }}_key
    group by milestone_events.{{ level }}_key, greatest(milestone_events.event_day, first_{{ level }}_days.first_day)

),

with_milestones as (

    select
        {{ level }}_days.*,
        sum(coalesce(milestone_daily_changes.due_change, 0)) over {{ level }}_history as milestones_due,
        sum(coalesce(milestone_daily_changes.missed_change, 0)) over {{ level }}_history as milestones_missed

    from {{ level }}_days
    left join milestone_daily_changes
        on
            {{ level }}_days.{{ level }}_key = milestone_daily_changes.{{ level }}_key
            and {{ level }}_days.date_day = milestone_daily_changes.date_day
    window {{ level }}_history as (
        partition by {{ level }}_days.{{ level }}_key
        order by {{ level }}_days.date_day
        rows between unbounded preceding and current row
    )

),

-- `offset 0` keeps the indices and bands from being pulled up into the final select, where each
-- band would work its index out again in every branch, and overall_health both bands in every branch.
indices as (

    select
        with_milestones.*,
        cast({{ safe_divide('with_milestones.ev', 'with_milestones.pv') }} as numeric(18, 6)) as spi,
        cast({{ safe_divide('with_milestones.ev', 'with_milestones.ac') }} as numeric(18, 6)) as cpi

    from with_milestones
    offset 0  -- noqa: AM09

),

health as (

    select
        indices.*,
        {{ health_band('indices.spi') }} as schedule_health,
        {{ health_band('indices.cpi') }} as cost_health

    from indices
    offset 0  -- noqa: AM09

)

select
    health.{{ level }}_key,
    health.date_day,
{%- if level == 'portfolio' %}
    cast(health.programs_total as integer) as programs_total,
{%- endif %}
    cast(health.projects_total as integer) as projects_total,
    cast(health.projects_green as integer) as projects_green,
    cast(health.projects_amber as integer) as projects_amber,
    cast(health.projects_red as integer) as projects_red,
    cast(health.projects_grey as integer) as projects_grey,
    cast(health.bac as numeric(18, 2)) as bac,
    cast(health.pv as numeric(18, 2)) as pv,
    cast(health.ev as numeric(18, 2)) as ev,
    cast(health.ac as numeric(18, 2)) as ac,
    cast(health.ev - health.pv as numeric(18, 2)) as sv,
    cast(health.ev - health.ac as numeric(18, 2)) as cv,
    health.spi,
    health.cpi,
    cast(health.eac as numeric(18, 2)) as eac,
    cast(health.etc as numeric(18, 2)) as etc,
    cast(health.bac - health.eac as numeric(18, 2)) as vac,
    cast(
        {{ safe_divide('health.bac - health.ev', 'health.bac - health.ac') }}
        as numeric(18, 6)
    ) as tcpi,
    health.schedule_health,
    health.cost_health,
    {{ worse_health('health.schedule_health', 'health.cost_health') }} as overall_health,
    cast(health.milestones_due as integer) as milestones_due,
    cast(health.milestones_missed as integer) as milestones_missed

from health
{%- endmacro %}
