{#-
    The `fill_or_delete_insert` incremental strategy: dbt's delete+insert, except when the target is
    empty at the time of the write (a pre-hook emptied it to rebuild every row). Then the model's rows
    go straight into it from a temporary view of the model's query (see postgres__create_table_as),
    worked out and written once: delete+insert would store them in a temporary table first, look
    each of their keys up in the empty target, then copy them over.
-#}
{% macro get_incremental_fill_or_delete_insert_sql(arg_dict) -%}
    {%- if incremental_target_emptied() -%}
        {{- log(this.identifier ~ ": its table is empty, so its rows are inserted straight from its query", info=True) -}}
        {{ get_incremental_append_sql(arg_dict) }}
    {%- else -%}
        {{ get_incremental_delete_insert_sql(arg_dict) }}
    {%- endif -%}
{%- endmacro %}

{#- Whether the model running is an incremental run of a `fill_or_delete_insert` model whose table has
    no row, in the run's transaction (after its pre-hooks). -#}
{% macro incremental_target_emptied() -%}
    {%- if not execute or this is none or model.resource_type != 'model'
        or config.get('incremental_strategy') != 'fill_or_delete_insert' or not is_incremental() -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set emptied = run_query('select not exists (select from ' ~ this ~ ') as emptied').columns[0].values()[0] -%}
    {{- return(emptied) -}}
{%- endmacro %}
