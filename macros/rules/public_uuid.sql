{#- Rule 5: the actor's public id, exactly production's (Python's
    `shortuuid.uuid(name=identifiant_unique)`): the UUID version 5 of the key in the DNS
    namespace (URL namespace for keys starting with http:// or https://), written in base 57,
    most significant digit first, left-padded with '2' to 22 characters.
    Exact integer arithmetic on bigints: the 128 bits as four 32-bit limbs, divided five times
    by 57^5 (long division, every intermediate below 2^62), each remainder giving five base-57
    digits; the 22 lowest digits are the id (57^22 > 2^128). -#}
{% macro public_uuid(expression) -%}
    {%- set group = 57 ** 5 -%}
    {%- set limb = 2 ** 32 -%}
    (
        select
            {%- for k in range(21, -1, -1) %}
            substr(
                '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz',
                (step{{ k // 5 + 1 }}.g / {{ 57 ** (k % 5) }} % 57)::integer + 1, 1
            ){{ ' ||' if not loop.last }}
            {%- endfor %}
        from (
            select
                ('x' || substr(as_hex.h, 1, 8))::bit(32)::bigint as a,
                ('x' || substr(as_hex.h, 9, 8))::bit(32)::bigint as b,
                ('x' || substr(as_hex.h, 17, 8))::bit(32)::bigint as c,
                ('x' || substr(as_hex.h, 25, 8))::bit(32)::bigint as d
            from (
                select
                    replace(
                        public.uuid_generate_v5(
                            case
                                when lower({{ expression }}) like 'http://%'
                                    or lower({{ expression }}) like 'https://%'
                                    then public.uuid_ns_url()
                                else public.uuid_ns_dns()
                            end,
                            {{ expression }}
                        )::text,
                        '-', ''
                    ) as h
            ) as as_hex
            offset 0
        ) as step0
        {%- for n in range(1, 6) %}
        cross join lateral (
            -- long division of step{{ n - 1 }}'s limbs by 57^5: quotient limbs and remainder g
            select
                q.a, q.b, q.c, q.d, q.r_c * {{ limb }} + step{{ n - 1 }}.d - q.d * {{ group }} as g
            from (
                select
                    r.a, r.b, r.c,
                    (r.r_c * {{ limb }} + step{{ n - 1 }}.d) / {{ group }} as d,
                    r.r_c
                from (
                    select
                        s.a, s.b,
                        (s.r_b * {{ limb }} + step{{ n - 1 }}.c) / {{ group }} as c,
                        (s.r_b * {{ limb }} + step{{ n - 1 }}.c) % {{ group }} as r_c
                    from (
                        select
                            step{{ n - 1 }}.a / {{ group }} as a,
                            (step{{ n - 1 }}.a % {{ group }} * {{ limb }} + step{{ n - 1 }}.b) / {{ group }} as b,
                            (step{{ n - 1 }}.a % {{ group }} * {{ limb }} + step{{ n - 1 }}.b) % {{ group }} as r_b
                    ) as s
                    offset 0
                ) as r
                offset 0
            ) as q
        ) as step{{ n }}
        {%- endfor %}
    )
{%- endmacro %}
