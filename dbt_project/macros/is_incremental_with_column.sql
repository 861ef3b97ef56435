{#-
    Whether this run is incremental and the model's table already has `column`: a table built
    before the model kept that column has nothing to compare it with, so the model rebuilds it whole.
-#}
{% macro is_incremental_with_column(column) -%}
    {{ return(
        is_incremental()
        and column in (adapter.get_columns_in_relation(this) | map(attribute='name') | list)
    ) }}
{%- endmacro %}
