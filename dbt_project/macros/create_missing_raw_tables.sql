{#- Creates, empty, the raw tables that no connector has written yet (a tool not configured,
    a first deployment), so that staging views can be built on every source. The columns are
    those connectors/raw_store.py gives them; a source's `create_if_missing` meta says which
    shape it has. Tables that exist are left untouched, so the warehouse user needs no rights
    on raw once the connectors have run. -#}
{% macro create_missing_raw_tables() -%}
    {%- if execute -%}
        {%- for source in graph.sources.values() if source.config.meta.get('create_if_missing') -%}
            {%- set existing = adapter.get_relation(
                database=source.database,
                schema=source.schema,
                identifier=source.identifier,
            ) -%}
            {%- set shape = source.config.meta.get('create_if_missing') -%}
            {%- if existing is none %}
{{ catalog_lock() }};
create schema if not exists {{ adapter.quote(source.schema) }};
create table if not exists {{ adapter.quote(source.schema) }}.{{ adapter.quote(source.identifier) }} (
                {%- if shape == 'load_batches' %}
    batch_id uuid primary key,
    source_system text not null,
    source_instance text not null,
    stream text not null,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    status text not null default 'running',
    records_loaded integer not null default 0,
    records_rejected integer not null default 0,
    records_deleted integer not null default 0,
    pages integer not null default 0,
    watermark_from text,
    watermark_to text,
    error text
                {%- elif shape == 'stream_state' %}
    source_system text not null,
    source_instance text not null,
    stream text not null,
    state jsonb not null,
    last_success_at timestamptz,
    last_batch_id uuid,
    updated_at timestamptz not null default now(),
    primary key (source_system, source_instance, stream)
                {%- elif shape == 'rejected_records' %}
    rejected_id bigint generated always as identity primary key,
    source_system text not null,
    source_instance text not null,
    stream text not null,
    record_id text,
    reason text not null,
    payload text not null,
    batch_id uuid not null,
    rejected_at timestamptz not null default now()
                {%- else %}
    source_instance text not null,
    record_id text not null,
    cursor_value text,
    batch_id uuid not null,
    loaded_at timestamptz not null default now(),
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    payload jsonb not null,
    primary key (source_instance, record_id)
                {%- endif %}
);
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
