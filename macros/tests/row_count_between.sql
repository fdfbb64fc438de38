{#- Model-level test: the row count lies between min_value and max_value (either optional). -#}
{% test row_count_between(model, min_value=none, max_value=none) %}
with counted as (
    select count(*) as row_count from {{ model }}
)

select row_count
from counted
where false
    {%- if min_value is not none %} or row_count < {{ min_value }}{% endif %}
    {%- if max_value is not none %} or row_count > {{ max_value }}{% endif %}
{% endtest %}
