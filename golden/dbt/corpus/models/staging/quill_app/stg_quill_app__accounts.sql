with source as (

    select * from {{ source('quill_app', 'accounts') }}
    where not coalesce(_fivetran_deleted, false)

),

renamed as (

    select
        id                                   as account_id,
        trim(name)                           as account_name,
        upper(billing_country)               as billing_country,
        lower(email_domain)                  as email_domain,
        employee_count::integer              as employee_count,
        coalesce(is_internal, false)         as is_internal,
        trial_started_at::timestamp_ntz      as trial_started_at,
        created_at::timestamp_ntz            as created_at
    from source

),

flagged as (

    select
        *,
        -- internal sandboxes, demo tenants and anything on a domain listed in the project vars
        (
            is_internal
            or email_domain in (
                {%- for domain in var('test_account_domains') %}
                '{{ domain }}'{{ "," if not loop.last }}
                {%- endfor %}
            )
            or account_name ilike '%[test]%'
        )                                    as is_test_account
    from renamed

)

select * from flagged
