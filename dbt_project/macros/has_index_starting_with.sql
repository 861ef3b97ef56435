{#- Whether `relation` has an index whose first column is `column`. Read when tests run (`dbt test`,
    `dbt build`); when they are only compiled (`dbt compile`, `dbt docs generate`), or the relation
    does not exist yet, the answer is yes: the SQL is not run against it. -#}
{% macro has_index_starting_with(relation, column) %}
    {%- if not execute or flags.WHICH not in ['build', 'test', 'retry'] -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set lookup -%}
        select
            to_regclass({{ sql_text_literal(relation | string) }}) is null
            or exists (
                select 1
                from pg_index as indexes
                inner join pg_attribute as attributes
                    on attributes.attrelid = indexes.indrelid and attributes.attnum = indexes.indkey[0]
                where
                    indexes.indrelid = to_regclass({{ sql_text_literal(relation | string) }})
                    and attributes.attname = {{ sql_text_literal(column) }}
            ) as found
    {%- endset -%}
    {{ return(run_query(lookup).rows[0]['found']) }}
{% endmacro %}
