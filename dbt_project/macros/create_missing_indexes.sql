{#-
    Post-hook of every model: dbt creates a table's configured `indexes` only when it creates the
    table, so an incremental table built before an index was configured would never get it. Each
    run of an incremental model creates the configured indexes its table lacks: an index counts as
    there when one holds the same columns in the same order (a unique one serves a plain request).
-#}
{% macro create_missing_indexes() -%}
    {%- set configured = config.get('indexes') or [] -%}
    {%- if not execute or model.config.materialized != 'incremental' or configured | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set existing_indexes_query -%}
        select
            index_info.indisunique as is_unique,
            string_agg(index_columns.attname, ',' order by index_keys.key_position) as column_list
        from pg_index as index_info
        cross join lateral unnest(index_info.indkey) with ordinality as index_keys (attribute_number, key_position)
        inner join pg_attribute as index_columns
            on
                index_info.indrelid = index_columns.attrelid
                and index_keys.attribute_number = index_columns.attnum
        where index_info.indrelid = '{{ this }}'::regclass
        group by index_info.indexrelid, index_info.indisunique
    {%- endset -%}
    {%- set existing = run_query(existing_indexes_query).rows -%}
    {%- set statements = [] -%}
    {%- for index in configured -%}
        {%- set column_list = index['columns'] | join(',') -%}
        {%- set matching = [] -%}
        {%- for row in existing if row['column_list'] == column_list and (row['is_unique'] or not index.get('unique')) -%}
            {%- do matching.append(row) -%}
        {%- endfor -%}
        {%- if matching | length == 0 -%}
            {%- do statements.append(get_create_index_sql(this, index)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ statements | join(';\n') }}
{%- endmacro %}
