{#- on-run-end: writes every model, test, seed or snapshot that failed or errored in this invocation
    to audit.build_failures, keyed by the `build_id` var, else the `PMO_BUILD_ID` environment variable
    (the nightly DAG's run id, which changes every run: as a var it would make dbt parse the whole
    project again), else dbt's invocation id, so whoever publishes or reports the build can name what failed. -#}
{% macro record_build_failures(results) -%}
    {%- if execute -%}
        {%- set failed = [] -%}
        {%- for result in results if result.status in ('fail', 'error') -%}
            {%- do failed.append(result) -%}
        {%- endfor -%}
        {%- if failed -%}
            {%- set build_id = var('build_id', '') | string | trim or env_var('PMO_BUILD_ID', '') | trim or invocation_id -%}
{{ build_failures_table_ddl() }};
insert into audit.build_failures (build_id, unique_id, resource_type, status, failures, message)
values
            {%- for result in failed %}
    (
        {{ sql_text_literal(build_id) }},
        {{ sql_text_literal(result.node.unique_id) }},
        {{ sql_text_literal(result.node.resource_type) }},
        {{ sql_text_literal(result.status) }},
        {{ result.failures if result.failures is number else 'null' }},
        {{ sql_text_literal(result.message) }}
    ){{ "," if not loop.last }}
            {%- endfor %}
            {{- log("record_build_failures: " ~ failed | length ~ " failed node(s) recorded for build " ~ build_id, info=true) -}}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro build_failures_table_ddl() -%}
{{ catalog_lock() }};
create schema if not exists audit;
create table if not exists audit.build_failures (
    build_id text not null,
    unique_id text not null,
    resource_type text not null,
    status text not null,
    failures bigint,
    message text,
    recorded_at timestamptz not null default now()
)
{%- endmacro %}

{#- A value as a PostgreSQL text literal (null stays null). -#}
{% macro sql_text_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}
