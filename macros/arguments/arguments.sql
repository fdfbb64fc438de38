{#- Typed arguments of run-operations: a value of the wrong type is an error that changes
    nothing (`"false"` is not false, `"0,5"` is not a number). -#}
{% macro boolean_argument(name, value) %}
    {%- if value is sameas true or value is sameas false -%}
        {{ return(value) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "argument " ~ name ~ " must be true or false (a YAML boolean, unquoted), got "
        ~ tojson(value) ~ "; nothing was done") }}
{% endmacro %}


{% macro number_argument(name, value, minimum, maximum) %}
    {%- if value is number and value is not sameas true and value is not sameas false
          and value >= minimum and value <= maximum -%}
        {{ return(value) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "argument " ~ name ~ " must be a number from " ~ minimum ~ " to " ~ maximum
        ~ " (a YAML number, unquoted, with a dot), got " ~ tojson(value) ~ "; nothing was done") }}
{% endmacro %}
