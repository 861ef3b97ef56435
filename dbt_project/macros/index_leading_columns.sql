{#- The columns that lead an index of `relation` (each index's first column), in one catalog query.
    None when the answer cannot matter: the tests are only compiled (`dbt compile`, `dbt docs
    generate`) or the relation does not exist yet, so its SQL is not run against it. -#}
{% macro index_leading_columns(relation) %}
    {%- if not execute or flags.WHICH not in ['build', 'test', 'retry'] -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set lookup -%}
        select
            to_regclass({{ sql_text_literal(relation | string) }}) is not null as relation_exists,
            array_to_string(array(
                select attributes.attname::text
                from pg_index as indexes
                inner join pg_attribute as attributes
                    on attributes.attrelid = indexes.indrelid and attributes.attnum = indexes.indkey[0]
                where indexes.indrelid = to_regclass({{ sql_text_literal(relation | string) }})
            ), ',') as leading_columns
    {%- endset -%}
    {%- set found = run_query(lookup).rows[0] -%}
    {{ return(found['leading_columns'].split(',') if found['relation_exists'] else none) }}
{% endmacro %}
