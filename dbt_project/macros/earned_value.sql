{#- numerator / denominator, null when the denominator is 0 (or either side is null). -#}
{% macro safe_divide(numerator, denominator) -%}
    case when ({{ denominator }}) != 0 then ({{ numerator }}) / ({{ denominator }}) end
{%- endmacro %}

{#- The health band of a performance index (spi or cpi): green from 0.95, amber from 0.85, red below,
    grey when there is no index. -#}
{% macro health_band(performance_index) -%}
    case
        when ({{ performance_index }}) is null then 'grey'
        when ({{ performance_index }}) >= {{ health_green_from() }} then 'green'
        when ({{ performance_index }}) >= {{ health_amber_from() }} then 'amber'
        else 'red'
    end
{%- endmacro %}

{% macro health_green_from() -%}0.95{%- endmacro %}

{% macro health_amber_from() -%}0.85{%- endmacro %}

{#- The worse of two health bands: red over amber over green; grey only when neither has a colour. -#}
{% macro worse_health(first_band, second_band) -%}
    case
        when 'red' in ({{ first_band }}, {{ second_band }}) then 'red'
        when 'amber' in ({{ first_band }}, {{ second_band }}) then 'amber'
        when 'green' in ({{ first_band }}, {{ second_band }}) then 'green'
        else 'grey'
    end
{%- endmacro %}
