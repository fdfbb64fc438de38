{{ config(indexes=[{'columns': ['published_table', 'op']}]) }}
{#- The rows each webapp table must receive (op insert or update: the whole row; update when
    the warehouse's copy holds its key) or lose (op delete: its key), computed here against the warehouse's copy of what the webapp holds; values are
    text (json values stay json), read back by the webapp with its own column types. Empty
    when the change set is a reconciliation. -#}
{#- The actors it covers (change_set_scope reads them when it runs). -#}
{%- do source('lacarte_state', 'to_publish') -%}
{%- set plan = change_set_plan() -%}
{%- set status = lacarte_status() if execute else none -%}
{%- set use_all = status is none or status.publish_all -%}

{%- if plan.reconcile or not execute %}
select
    null::text as published_table,
    null::integer as publish_order,
    null::text as op,
    null::jsonb as key_data,
    null::jsonb as row_data
where false
{%- else %}
{#- Each side read once, inside its scope, and the two joined by key: a key only in the
    exposure is inserted, a key only in the copy deleted, a key in both updated when its row
    differs. A key whose row moved to another actor is in both scopes (the merge replaced
    the groups of both actors, which stay in to_publish until the webapp confirms). #}
{%- for item in plan.published %}
    {%- set next = change_set_relation(item, 'next') %}
    {%- set current = change_set_relation(item, 'current') %}
    {%- set first_key = adapter.quote(item.key[0]) %}
    {%- set key_match -%}
        {% for k in item.key %}cur.{{ adapter.quote(k) }} = nxt.{{ adapter.quote(k) }}{{ ' and ' if not loop.last }}{% endfor %}
    {%- endset %}
    {%- set key_data -%}
        jsonb_build_object({% for k in item.key %}'{{ k }}', coalesce(nxt.{{ adapter.quote(k) }}, cur.{{ adapter.quote(k) }})::text{{ ', ' if not loop.last }}{% endfor %})
    {%- endset %}
select
    '{{ item.table }}' as published_table,
    {{ item.order }} as publish_order,
    case when cur.{{ first_key }} is null then 'insert' when nxt.{{ first_key }} is null then 'delete' else 'update' end as op,
    {{ key_data }} as key_data,
    case when nxt.{{ first_key }} is not null then (
        select to_jsonb(r) from (
            select {% for c in plan.columns[item.table] %}nxt.{{ adapter.quote(c.name) }}{{ '' if c.json else '::text' }} as {{ adapter.quote(c.name) }}{{ ', ' if not loop.last }}{% endfor %}
        ) as r
    ) end as row_data
from (
    select * from {{ next }} as nxt
    where {{ 'true' if use_all else change_set_scope(item, 'nxt', 'next', plan.published, change_set_relation) }}
) as nxt
full join (
    select * from {{ current }} as cur
    where {{ 'true' if use_all else change_set_scope(item, 'cur', 'current', plan.published, change_set_relation) }}
) as cur on {{ key_match }}
where cur.{{ first_key }} is null or nxt.{{ first_key }} is null or nxt::text is distinct from cur::text
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{%- endif %}
