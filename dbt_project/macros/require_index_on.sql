{#- Raises a clear error unless `relation` has an index whose first column is `column`: checked when
    tests run (`dbt test`, `dbt build`), not when they are only compiled (`dbt compile`, `dbt docs`),
    and only on a relation that exists (a missing one fails the test's own query). -#}
{% macro require_index_on(relation, column) %}
    {%- if not execute or flags.WHICH not in ['build', 'test', 'retry'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set lookup -%}
        select
            to_regclass({{ sql_text_literal(relation | string) }}) is not null as relation_exists,
            exists (
                select 1
                from pg_index as indexes
                inner join pg_attribute as attributes
                    on attributes.attrelid = indexes.indrelid and attributes.attnum = indexes.indkey[0]
                where
                    indexes.indrelid = to_regclass({{ sql_text_literal(relation | string) }})
                    and attributes.attname = {{ sql_text_literal(column) }}
            ) as index_exists
    {%- endset -%}
    {%- set found = run_query(lookup).rows[0] -%}
    {%- if found['relation_exists'] and not found['index_exists'] -%}
        {{ exceptions.raise_compiler_error(
            "relationships_columns: " ~ column ~ " is read by index (by_index), but " ~ relation
            ~ " has no index that starts with it: add one to the model's indexes, or drop by_index"
        ) }}
    {%- endif -%}
{% endmacro %}
