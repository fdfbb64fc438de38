{#- Column test: every non-NULL value matches the POSIX regular expression `pattern`. -#}
{% test matches_pattern(model, column_name, pattern) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }}::text !~ {{ sql_literal(pattern) }}
{% endtest %}
