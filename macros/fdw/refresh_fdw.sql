{#-
    dbt run-operation refresh_fdw --target warehouse|webapp|webapp_sample [--args '{dry_run: true, cascade: true}']

    The single entry point of the links, run at every deployment. In one transaction (with a
    lock_timeout, serialized with any other refresh of the same server): the server and its
    options, the user mapping, the local schema, the grants of the other side's reader
    (webapp side), then the foreign tables that differ from a fresh import of the remote
    catalog. Prints the statements it ran; a dry run prints them and rolls everything back.
-#}
{% macro refresh_fdw(dry_run=false, cascade=false) %}
    {%- set dry_run = boolean_argument('dry_run', dry_run) -%}
    {%- set cascade = boolean_argument('cascade', cascade) -%}
    {%- set link = fdw_link() -%}
    {%- do fdw_open(link, lock=true) -%}
    {%- set plan = fdw_plan_and_run(link, cascade) -%}
    {%- if plan.refused and not dry_run -%}
        {%- do run_query("rollback") -%}
        {{ exceptions.raise_compiler_error((plan.refused | join('; '))
            ~ ". Drop them first, or rerun with --args '{cascade: true}' to drop them with it. Nothing was changed") }}
    {%- endif -%}
    {%- do run_query("rollback" if dry_run else "commit") -%}
    {%- do fdw_print_plan(link, plan, dry_run) -%}
{% endmacro %}


{% macro fdw_print_plan(link, plan, dry_run) %}
    {%- set changed = plan.statements | selectattr('change') | list -%}
    {{ print("refresh_fdw (" ~ link.target ~ "): " ~ link.server ~ " -> " ~ link.options.host ~ ":" ~ link.options.port
             ~ "/" ~ link.options.dbname ~ "." ~ link.remote_schema ~ " (sslmode " ~ link.options.sslmode ~ ") into schema "
             ~ link.local_schema ~ (" [dry run: nothing was changed]" if dry_run else "")) }}
    {%- for item in changed %}
    {{ print("  " ~ ("would " if dry_run else "") ~ item.change) }}
    {%- endfor %}
    {%- for sentence in plan.refused %}
    {{ print("  refused without cascade: " ~ sentence) }}
    {%- endfor %}
    {%- set statements = plan.statements | selectattr('statement') | list -%}
    {%- if statements %}
    {{ print("  statements" ~ (" it would run:" if dry_run else " run:")) }}
    {%- for item in statements %}
    {{ print("    " ~ item.statement ~ ";") }}
    {%- endfor %}
    {%- endif %}
    {%- if plan.remote_missing %}
    {{ print("  remote schema " ~ link.remote_schema ~ " does not exist yet: nothing imported (build, then refresh again)") }}
    {%- endif %}
    {{ print("  " ~ changed | length ~ " change(s), " ~ (plan.tables | selectattr('action', 'equalto', 'keep') | list | length)
             ~ " table(s) unchanged") }}
{% endmacro %}
