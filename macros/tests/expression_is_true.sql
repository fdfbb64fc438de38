{#- Model-level test: the SQL expression holds for every row (optionally where `where`). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
