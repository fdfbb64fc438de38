{#-
    dbt run-operation publish_exposures --target webapp|webapp_sample [--args '{min_ratio: 0.5}']

    Makes the webapp's displayed tables equal to the exposures read through warehouse_public,
    in one transaction: each exposure is first copied locally (no lock held), then checked
    (an empty or shrunken exposure is refused, changing nothing), then applied as a difference
    (delete what went, update what changed, insert what came), by column name. The tables stay
    (constraints, indexes, foreign keys in and out); readers see the old content until commit,
    then the new, and are never blocked by the load: only rows are locked.
-#}
{% macro publish_exposures(min_ratio=none) %}
    {%- set link = fdw_link() -%}
    {%- set drift = fdw_drift(link) -%}
    {%- if drift -%}
        {{ exceptions.raise_compiler_error(
            "the warehouse exposures changed since the last link refresh: " ~ (drift | join('; '))
            ~ ". Run: dbt run-operation refresh_fdw --target " ~ target.name ~ " (nothing was published)") }}
    {%- endif -%}
    {%- do run_query(publish_exposures_sql(link, min_ratio if min_ratio is not none else var('publish_min_ratio'))) -%}
    {%- set report = fromjson(run_query("select current_setting('lacarte.publish_report')").columns[0].values()[0]) -%}
    {{ print("publish_exposures (" ~ target.name ~ "): " ~ link.local_schema ~ " -> public") }}
    {%- for row in report %}
    {{ print("  " ~ row.table ~ ": " ~ row.rows ~ " rows (+" ~ row.inserted ~ " ~" ~ row.updated ~ " -" ~ row.deleted ~ ")") }}
    {%- endfor %}
{% endmacro %}


{% macro publish_exposures_sql(link, min_ratio) %}
    {%- set prefix = var('publish_exposure_prefix')[target.name] -%}
do $publish$
declare
    v_source_schema text := {{ fdw_literal(link.local_schema) }};
    v_prefix text := {{ fdw_literal(prefix) }};
    v_tables jsonb := {{ fdw_literal(tojson(var('publish_tables'))) }}::jsonb;
    v_min_ratio numeric := {{ min_ratio | float }};
    v_table jsonb;
    v_source text;
    v_next text;
    v_columns text[];
    v_keys text[];
    v_values text[];
    v_key_match text;
    v_new bigint;
    v_old bigint;
    v_inserted bigint;
    v_updated bigint;
    v_deleted bigint;
    v_report jsonb := '[]'::jsonb;
    v_counts jsonb := '{}'::jsonb;
begin
    perform set_config('lock_timeout', {{ fdw_literal(var('publish_lock_timeout')) }}, true);
    -- Whole-set differences: a nested loop over a table with stale statistics (emptied,
    -- not yet vacuumed) would rescan it once per row.
    perform set_config('enable_nestloop', 'off', true);
    -- 1. Copy every exposure locally and check it; nothing of the webapp is locked yet.
    for v_table in select value from jsonb_array_elements(v_tables) loop
        v_source := v_prefix || (v_table->>'exposure');
        v_next := 'publish_next_' || (v_table->>'exposure');
        if to_regclass(format('%I.%I', v_source_schema, v_source)) is null then
            raise exception using
                message = format('%s.%s is missing: nothing was published', v_source_schema, v_source),
                hint = format('run dbt build on the warehouse, then dbt run-operation refresh_fdw --target %s',
                    {{ fdw_literal(target.name) }});
        end if;
        select array_agg(a.attname::text order by a.attnum) into v_columns
        from pg_attribute as a
        where a.attrelid = format('public.%I', v_table->>'displayed')::regclass
            and a.attnum > 0 and not a.attisdropped
            and exists (
                select from pg_attribute as e
                where e.attrelid = format('%I.%I', v_source_schema, v_source)::regclass
                    and e.attname = a.attname and e.attnum > 0 and not e.attisdropped
            );
        execute format('create temp table %I on commit drop as select %s from %I.%I',
            v_next, (select string_agg(format('%I', c), ', ') from unnest(v_columns) as c),
            v_source_schema, v_source);
        execute format('select count(*) from %I', v_next) into v_new;
        execute format('select count(*) from public.%I', v_table->>'displayed') into v_old;
        if coalesce((v_table->>'guard')::boolean, false) and (v_new = 0 or v_new < v_min_ratio * v_old) then
            raise exception using
                message = format('refused: %s has %s rows, the map shows %s in %s now (minimum share %s); nothing was published',
                    v_source, v_new, v_old, v_table->>'displayed', v_min_ratio),
                hint = 'check the warehouse build; to publish anyway, pass --args ''{min_ratio: 0}''';
        end if;
        v_keys := array(select jsonb_array_elements_text(v_table->'key'));
        execute format('create index on %I (%s)', v_next,
            (select string_agg(format('%I', k), ', ') from unnest(v_keys) as k));
        execute format('analyze %I', v_next);
        execute format('analyze public.%I', v_table->>'displayed');
        v_counts := v_counts || jsonb_build_object(v_table->>'displayed', jsonb_build_object(
            'columns', to_jsonb(v_columns), 'keys', to_jsonb(v_keys), 'next', v_next, 'rows', v_new));
    end loop;

    -- 2. Apply the differences: deletions children first, then upserts parents first.
    for v_table in select t.value from jsonb_array_elements(v_tables) with ordinality as t(value, n)
            order by t.n desc loop
        v_next := v_counts->(v_table->>'displayed')->>'next';
        v_keys := array(select jsonb_array_elements_text(v_counts->(v_table->>'displayed')->'keys'));
        v_key_match := (select string_agg(format('cur.%1$I = nxt.%1$I', k), ' and ') from unnest(v_keys) as k);
        execute format('delete from public.%I as cur where not exists (select from %I as nxt where %s)',
            v_table->>'displayed', v_next, v_key_match);
        get diagnostics v_deleted = row_count;
        v_counts := jsonb_set(v_counts, array[v_table->>'displayed', 'deleted'], to_jsonb(v_deleted));
    end loop;
    for v_table in select t.value from jsonb_array_elements(v_tables) with ordinality as t(value, n)
            order by t.n loop
        v_next := v_counts->(v_table->>'displayed')->>'next';
        v_columns := array(select jsonb_array_elements_text(v_counts->(v_table->>'displayed')->'columns'));
        v_keys := array(select jsonb_array_elements_text(v_counts->(v_table->>'displayed')->'keys'));
        v_values := array(select c from unnest(v_columns) as c where c <> all(v_keys));
        v_key_match := (select string_agg(format('cur.%1$I = nxt.%1$I', k), ' and ') from unnest(v_keys) as k);
        v_updated := 0;
        if cardinality(v_values) > 0 then
            execute format(
                'update public.%I as cur set (%s) = row(%s) from %I as nxt where %s and (%s) is distinct from (%s)',
                v_table->>'displayed',
                (select string_agg(format('%I', c), ', ') from unnest(v_values) as c),
                (select string_agg(format('nxt.%I', c), ', ') from unnest(v_values) as c),
                v_next, v_key_match,
                (select string_agg(format('cur.%I', c), ', ') from unnest(v_values) as c) || ', null::int',
                (select string_agg(format('nxt.%I', c), ', ') from unnest(v_values) as c) || ', null::int');
            get diagnostics v_updated = row_count;
        end if;
        execute format(
            'insert into public.%I (%s) select %s from %I as nxt where not exists (select from public.%I as cur where %s)',
            v_table->>'displayed',
            (select string_agg(format('%I', c), ', ') from unnest(v_columns) as c),
            (select string_agg(format('nxt.%I', c), ', ') from unnest(v_columns) as c),
            v_next, v_table->>'displayed', v_key_match);
        get diagnostics v_inserted = row_count;
        v_report := v_report || jsonb_build_object(
            'table', v_table->>'displayed',
            'rows', v_counts->(v_table->>'displayed')->'rows',
            'inserted', v_inserted,
            'updated', v_updated,
            'deleted', v_counts->(v_table->>'displayed')->'deleted');
    end loop;
    perform set_config('lacarte.publish_report', v_report::text, false);
end
$publish$
{% endmacro %}
