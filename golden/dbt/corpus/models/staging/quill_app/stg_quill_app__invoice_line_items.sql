with source as (

    select * from {{ source('quill_app', 'invoice_line_items') }}
    where not coalesce(_fivetran_deleted, false)

),

renamed as (

    select
        id                                   as line_item_id,
        invoice_id,
        subscription_id,
        line_type,
        amount_cents,
        period_start::date                   as service_period_start,
        period_end::date                     as service_period_end
    from source

)

select * from renamed
