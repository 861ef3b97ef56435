{#-
    Whether this run is incremental and the model's table already has `column`: a table built
    before the model kept that column has nothing to compare it with, so the model rebuilds it whole.
-#}
{% macro is_incremental_with_column(column) -%}
    {{ return(is_incremental() and relation_has_column(this, column)) }}
{%- endmacro %}

{#- Whether `relation` (a table the run reads or writes) has `column` now. -#}
{% macro relation_has_column(relation, column) -%}
    {{ return(column in (adapter.get_columns_in_relation(relation) | map(attribute='name') | list)) }}
{%- endmacro %}
