{% test empty_array(model, column_name) %}

select *

from {{ model }}
where cardinality({{ column_name }}) > 0

{% endtest %}
