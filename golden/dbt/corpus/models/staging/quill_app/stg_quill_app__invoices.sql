with source as (

    select * from {{ source('quill_app', 'invoices') }}
    where not coalesce(_fivetran_deleted, false)

),

renamed as (

    select
        id                                   as invoice_id,
        number                               as invoice_number,
        account_id,
        upper(currency)                      as currency,
        subtotal_cents,
        abs(coalesce(discount_cents, 0))     as discount_cents,
        coalesce(tax_cents, 0)               as tax_cents,
        total_cents,
        finalized_at::timestamp_ntz          as finalized_at,
        due_at::date                         as due_date,
        paid_at::timestamp_ntz               as paid_at,
        voided_at::timestamp_ntz             as voided_at,
        marked_uncollectible_at::timestamp_ntz as marked_uncollectible_at
    from source

)

select * from renamed
where coalesce(finalized_at, current_timestamp) >= '{{ var("revenue_start_date") }}'
