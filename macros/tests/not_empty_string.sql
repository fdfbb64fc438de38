{#- Column test: no value is '' (after trimming spaces); NULLs are left to not_null. -#}
{% test not_empty_string(model, column_name) %}
select {{ column_name }}
from {{ model }}
where trim({{ column_name }}::text) = ''
{% endtest %}
