with accounts as (

    select * from {{ ref('stg_quill_app__accounts') }}
    where not is_test_account

),

first_payment as (

    select
        account_id,
        min(paid_at)                              as first_paid_at
    from {{ ref('stg_quill_app__invoices') }}
    where paid_at is not null
      and total_cents > 0
    group by 1

),

current_subscription as (

    select
        account_id,
        subscription_id,
        plan_id,
        subscription_status
    from {{ ref('stg_quill_app__subscriptions') }}
    where subscription_status in ('trialing', 'active', 'past_due')
    qualify row_number() over (partition by account_id order by started_at desc) = 1

),

final as (

    select
        a.account_id,
        a.account_name,
        a.billing_country,
        case
            when a.billing_country in (
                'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE',
                'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
                'IS', 'LI', 'NO', 'GB'
            ) then 'quillmark_bv'
            else 'quillmark_inc'
        end                                       as billing_entity,
        -- Sales treats an unknown company size as SMB
        case
            when a.employee_count >= 1000 then 'enterprise'
            when a.employee_count >= 100 then 'mid_market'
            else 'smb'
        end                                       as segment,
        a.trial_started_at,
        fp.first_paid_at,
        cs.plan_id                                as current_plan_id,
        cs.subscription_status                    as current_subscription_status,
        coalesce(cs.subscription_status in ('active', 'past_due'), false) as is_paying,
        a.created_at
    from accounts as a
    left join first_payment as fp
        on a.account_id = fp.account_id
    left join current_subscription as cs
        on a.account_id = cs.account_id

)

select * from final
