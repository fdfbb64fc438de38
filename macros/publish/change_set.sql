{#- The plan of the change set (models/exposure/publication): for each published exposure,
    its columns and whether the warehouse's copy of the webapp table (lacarte_state.
    published__<table>) can be compared with it. A missing or differently shaped copy, or a
    reconciliation owed (lacarte_state.status), makes the change set a reconciliation: the
    webapp then compares every row itself. -#}
{% macro change_set_plan() %}
    {%- set published = published_exposures() if execute else [] -%}
    {%- set reasons = [] -%}
    {%- set unmatched = [] -%}
    {%- set columns = {} -%}
    {%- if execute -%}
        {%- set status = lacarte_status() -%}
        {%- if status is none or status.needs_reconcile -%}
            {%- do reasons.append(status.reconcile_reason if status else "no status recorded (the warehouse's first build)") -%}
        {%- endif -%}
        {%- for item in published -%}
            {%- set shapes = run_query("select table_schema, string_agg(column_name || ' ' || data_type, ', ' order by ordinal_position) "
                ~ "from information_schema.columns where (table_schema, table_name) in (('exposure', " ~ sql_literal(item.model)
                ~ "), ('lacarte_state', " ~ sql_literal('published__' ~ item.table) ~ ")) group by 1") -%}
            {%- set by_schema = {} -%}
            {%- for row in shapes.rows -%}
                {%- do by_schema.update({row[0]: row[1]}) -%}
            {%- endfor -%}
            {%- if by_schema.get('lacarte_state') != by_schema.get('exposure') -%}
                {%- do unmatched.append(item.table) -%}
            {%- endif -%}
            {%- set names = [] -%}
            {%- for column in adapter.get_columns_in_relation(api.Relation.create(database=target.database,
                                                                    schema='exposure', identifier=item.model)) -%}
                {%- do names.append({'name': column.name, 'json': column.dtype in ('json', 'jsonb')}) -%}
            {%- endfor -%}
            {%- do columns.update({item.table: names}) -%}
        {%- endfor -%}
        {%- if unmatched and not reasons -%}
            {%- do reasons.append("the warehouse's copy of " ~ unmatched | join(', ') ~ " is missing or shaped differently "
                ~ "from its exposure (a new or changed exposure)") -%}
        {%- endif -%}
    {%- endif -%}
    {{ return({'published': published, 'reconcile': reasons | length > 0, 'reasons': reasons, 'columns': columns}) }}
{% endmacro %}


{#- The rows of one published exposure (alias `alias`, read from `side`: next or current)
    inside the change set's scope: every row when status.publish_all, else the rows of the
    actors in lacarte_state.to_publish, directly or through the model their actor comes from
    (meta.acteur.via), read on the same side: a row of the exposure that changed hangs from a
    parent whose actor was rebuilt (rule: the pull's closure over old and new actors), and a
    row it lost hung from one in the webapp's copy. One relation per side keeps the planner's
    estimate of the parent's keys right (a union of both sides was planned as 200 keys, and
    large tables were then scanned whole: 1.7 s for 30,000 keys at 1M actors, measured). -#}
{% macro change_set_scope(item, alias, side, published, relation_of) %}
    {%- set acteurs = "(select identifiant_unique from " ~ source('lacarte_state', 'to_publish') ~ ")" -%}
    {%- if item.acteur is mapping -%}
        {%- set parent = published | selectattr('model', 'equalto', item.acteur.via) | first -%}
        {{ return(alias ~ "." ~ adapter.quote(item.acteur.column) ~ " in (select " ~ adapter.quote(item.acteur.key)
            ~ " from " ~ relation_of(parent, side) ~ " where " ~ adapter.quote(parent.acteur) ~ " in " ~ acteurs ~ ")") }}
    {%- endif -%}
    {{ return(alias ~ "." ~ adapter.quote(item.acteur) ~ " in " ~ acteurs) }}
{% endmacro %}


{#- exposure.<model> (next) or lacarte_state.published__<table> (current). -#}
{% macro change_set_relation(item, which) %}
    {%- if which == 'next' -%}
        {{ return(adapter.quote('exposure') ~ "." ~ adapter.quote(item.model)) }}
    {%- endif -%}
    {{ return("lacarte_state." ~ adapter.quote('published__' ~ item.table)) }}
{% endmacro %}


{#- The warehouse's status row (lacarte_state.status, written by lacarte.changes), or none
    before the first run recorded one (a fresh warehouse, a benchmark's first build). -#}
{% macro lacarte_status() %}
    {%- set exists = run_query("select to_regclass('lacarte_state.status') is not null").columns[0].values()[0] -%}
    {%- if not exists -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query("select needs_reconcile, reconcile_reason, publish_all from lacarte_state.status").rows -%}
    {%- if not rows -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({'needs_reconcile': rows[0][0], 'reconcile_reason': rows[0][1], 'publish_all': rows[0][2]}) }}
{% endmacro %}
