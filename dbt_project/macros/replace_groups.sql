{#-
    The `replace_groups` incremental strategy: every row of the target whose `unique_key` (the
    group, e.g. a work item) is in the batch is deleted, then the batch's rows are inserted but
    those whose other columns are all null. Such a row stands for a group left with no rows: it
    removes the group's rows and adds none.
-#}
{% macro get_incremental_replace_groups_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set group_key = arg_dict['unique_key'] -%}
    {%- if group_key is not string -%}
        {{ exceptions.raise_compiler_error("replace_groups needs one column as unique_key, got " ~ group_key) }}
    {%- endif -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='name') | list -%}
    {%- set others = columns | reject('equalto', group_key) | list -%}
    delete from {{ target }}
    where {{ adapter.quote(group_key) }} in (select {{ adapter.quote(group_key) }} from {{ source }});

    insert into {{ target }} ({{ get_quoted_csv(columns) }})
    select {{ get_quoted_csv(columns) }}
    from {{ source }}
    where not ({% for column in others %}{{ adapter.quote(column) }} is null{% if not loop.last %} and {% endif %}{% endfor %})
{%- endmacro %}
