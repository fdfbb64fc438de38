{#-
    dbt run-operation sample_validate --target webapp_sample --args '{territories: [...]}'

    Checks a freshly built sample database before it is swapped in: every foreign key holds
    (each constraint re-checked with an anti-join), and every territory has displayed actors.
    Raises with the list of what is wrong; prints rows per table otherwise.
-#}
{% macro sample_validate(territories) %}
    {%- set fks = run_query("
        select c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, fa.attname
        from pg_constraint c
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = c.confkey[1]
        join pg_namespace n on n.oid = (select relnamespace from pg_class where oid = c.conrelid)
        where c.contype = 'f' and n.nspname = 'public' and cardinality(c.conkey) = 1
        order by 1, 2") -%}
    {%- set problems = [] -%}
    {%- for fk in fks.rows -%}
        {%- set broken = run_query(
            "select count(*) from " ~ fk[0] ~ " as child where child." ~ adapter.quote(fk[1])
            ~ " is not null and not exists (select from " ~ fk[2] ~ " as parent where parent."
            ~ adapter.quote(fk[3]) ~ " = child." ~ adapter.quote(fk[1]) ~ ")").columns[0].values()[0] -%}
        {%- if broken > 0 -%}
            {%- do problems.append(fk[0] ~ "." ~ fk[1] ~ ": " ~ broken ~ " row(s) point at no " ~ fk[2]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for code in territories -%}
        {%- set shown = run_query(
            "select count(*) from qfdmo_displayedacteur as a join qfdmo_epci as e on e.id = a.epci_id where e.code = "
            ~ fdw_literal(code)).columns[0].values()[0] -%}
        {%- if shown == 0 -%}
            {%- do problems.append("territory " ~ code ~ " has no displayed actor") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error("the sample is not valid: " ~ (problems | join('; '))) }}
    {%- endif -%}
    {{ print("sample_validate: " ~ fks.rows | length ~ " foreign keys hold, " ~ territories | length ~ " territories have actors") }}
{% endmacro %}
