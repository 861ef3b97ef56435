{%- set register_field_names = portfolio_register_fields() | map('first') | list -%}

with

smartsheet_register_rows as (

    select * from {{ ref('stg_smartsheet__register_rows') }}

),

csv_register_rows as (

    select * from {{ ref('stg_csv__register_rows') }}

),

register_rows as (

    select
        'smartsheet' as register_source,
        1 as source_preference,
        smartsheet_register_rows.row_id as register_row_id,
        {% for field_name in register_field_names %}
            smartsheet_register_rows.{{ field_name }},
        {% endfor %}
        smartsheet_register_rows.modified_at as register_modified_at

    from smartsheet_register_rows
    where not smartsheet_register_rows.is_deleted

    union all

    select
        'csv' as register_source,
        2 as source_preference,
        cast(null as text) as register_row_id,
        {% for field_name in register_field_names %}
            csv_register_rows.{{ field_name }},
        {% endfor %}
        cast(null as timestamptz) as register_modified_at

    from csv_register_rows

),

ranked as (

    -- One row per project code: the Smartsheet register's before the CSV file's.
    select
        register_rows.*,
        row_number() over (
            partition by register_rows.project_code
            order by register_rows.source_preference asc, register_rows.register_row_id asc
        ) as code_rank

    from register_rows
    where register_rows.project_code is not null

)

select
    ranked.project_code,
    ranked.project_name,
    ranked.program_code,
    ranked.program_name,
    ranked.portfolio_code,
    ranked.portfolio_name,
    ranked.source_system,
    ranked.source_project_key,
    ranked.project_manager,
    ranked.sponsor,
    ranked.strategic_theme,
    ranked.stage,
    ranked.priority,
    cast(ranked.approved_budget as numeric(18, 2)) as approved_budget,
    ranked.currency,
    ranked.baseline_start,
    ranked.baseline_finish,
    ranked.forecast_finish,
    cast(ranked.expected_benefit as numeric(18, 2)) as expected_benefit,
    cast(ranked.alignment_score as numeric(3, 1)) as alignment_score,
    cast(ranked.default_hourly_rate as numeric(18, 2)) as default_hourly_rate,
    ranked.register_source,
    ranked.register_row_id,
    ranked.register_modified_at

from ranked
where ranked.code_rank = 1
