{#-
    The condition that a row worked out by this run is new to the model's table or differs from its
    stored row: the stored row, left joined on `key`, is missing, or one of `columns` differs (nulls
    compared as values). Incremental models write again only the rows it holds for.
-#}

{% macro new_or_changed(row, stored, key, columns) -%}
    {{ stored }}.{{ key }} is null
    {%- for column in columns %}
    or {{ row }}.{{ column }} is distinct from {{ stored }}.{{ column }}
    {%- endfor %}
{%- endmacro %}
