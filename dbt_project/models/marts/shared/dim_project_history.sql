{{ config(contract={'enforced': true}) }}

{%- set register_snapshot = ref('register_snapshot') -%}
{#- A unit test's stand-in for the snapshot has no schema, and always exists. -#}
{%- set snapshot_exists = register_snapshot.schema is none or load_relation(register_snapshot) is not none -%}

with

register_versions as (

    {% if snapshot_exists -%}

        select * from {{ register_snapshot }}

    {%- else -%}

        -- `dbt run` without `dbt snapshot` on a new warehouse: no versions yet.
        select
            cast(null as text) as project_key,
            cast(null as timestamp) as dbt_valid_from,
            cast(null as timestamp) as dbt_valid_to,
            cast(null as text) as project_code,
            cast(null as text) as project_name,
            cast(null as text) as program_key,
            cast(null as text) as portfolio_key,
            cast(null as text) as source_system,
            cast(null as text) as source_project_key,
            cast(null as text) as project_manager,
            cast(null as text) as sponsor,
            cast(null as text) as strategic_theme,
            cast(null as text) as stage,
            cast(null as text) as priority,
            cast(null as numeric(18, 2)) as approved_budget,
            cast(null as text) as currency,
            cast(null as date) as baseline_start,
            cast(null as date) as baseline_finish,
            cast(null as date) as forecast_finish,
            cast(null as numeric(18, 2)) as expected_benefit,
            cast(null as numeric(3, 1)) as alignment_score,
            cast(null as numeric(18, 2)) as default_hourly_rate,
            cast(null as boolean) as is_mapped

        where false

    {%- endif %}

)

select
    {{ surrogate_key(['register_versions.project_key', 'register_versions.dbt_valid_from']) }} as project_version_key,
    register_versions.project_key,
    -- The snapshot records its times without a zone, in the warehouse session's zone.
    cast(register_versions.dbt_valid_from as timestamptz) as valid_from,
    cast(register_versions.dbt_valid_to as timestamptz) as valid_to,
    register_versions.dbt_valid_to is null as is_current,
    register_versions.project_code,
    register_versions.project_name,
    register_versions.program_key,
    register_versions.portfolio_key,
    register_versions.source_system,
    register_versions.source_project_key,
    register_versions.project_manager,
    register_versions.sponsor,
    register_versions.strategic_theme,
    register_versions.stage,
    register_versions.priority,
    register_versions.approved_budget,
    register_versions.currency,
    register_versions.baseline_start,
    register_versions.baseline_finish,
    register_versions.forecast_finish,
    register_versions.expected_benefit,
    register_versions.alignment_score,
    register_versions.default_hourly_rate,
    register_versions.is_mapped

from register_versions
