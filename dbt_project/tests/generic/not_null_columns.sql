{#- One test over several columns instead of a not_null test each: a row for every null it finds,
    naming the column (`null_column`), in one scan of the model. -#}
{% test not_null_columns(model, columns) %}

select
    null_cells.null_column,
    tested.*

from (select * from {{ model }}) as tested
cross join lateral (
    values
    {%- for column in columns %}
        ({{ sql_text_literal(column) }}, tested.{{ column }} is null){{ "," if not loop.last }}
    {%- endfor %}
) as null_cells (null_column, is_null)
where null_cells.is_null

{% endtest %}
