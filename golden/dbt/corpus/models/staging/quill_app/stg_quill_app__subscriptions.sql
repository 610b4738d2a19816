with source as (

    select * from {{ source('quill_app', 'subscriptions') }}
    where not coalesce(_fivetran_deleted, false)

),

renamed as (

    select
        id                                   as subscription_id,
        account_id,
        plan_id,
        status                               as subscription_status,
        billing_interval,
        quantity                             as seat_count,
        unit_price_cents,
        upper(currency)                      as currency,
        started_at::timestamp_ntz            as started_at,
        canceled_at::timestamp_ntz           as canceled_at,
        updated_at::timestamp_ntz            as updated_at
    from source

),

normalised as (

    select
        *,
        case billing_interval
            when 'year' then round(seat_count * unit_price_cents / 12.0)
            else seat_count * unit_price_cents
        end::bigint                          as monthly_value_cents
    from renamed

)

select * from normalised
