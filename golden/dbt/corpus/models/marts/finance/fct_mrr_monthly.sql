{{ config(tags=['heavy']) }}

with months as (

    {{ dbt_utils.date_spine(
        datepart="month",
        start_date="cast('" ~ var('revenue_start_date') ~ "' as date)",
        end_date="dateadd(month, 1, current_date)"
    ) }}

),

month_ends as (

    select
        date_month                                as mrr_month,
        last_day(date_month)                      as month_end
    from months

),

subscription_history as (

    select * from {{ ref('snap_quill_app__subscriptions') }}

),

plans as (

    select id as plan_id, is_free
    from {{ source('quill_app', 'plans') }}

),

customers as (

    select account_id from {{ ref('dim_accounts') }}

),

budget_fx as (

    select date_trunc('year', rate_month)::date as rate_year, currency, rate_to_usd
    from {{ ref('fx_rates') }}
    where rate_type = 'budget'

),

active_at_month_end as (

    -- a subscription counts if its snapshot version was current on the month's last day
    select
        m.mrr_month,
        s.account_id,
        upper(s.currency)                         as currency,
        case s.billing_interval
            when 'year' then s.quantity * s.unit_price_cents / 12.0
            else s.quantity * s.unit_price_cents
        end                                       as monthly_value_cents
    from month_ends as m
    inner join subscription_history as s
        on s.dbt_valid_from <= m.month_end
       and (s.dbt_valid_to > m.month_end or s.dbt_valid_to is null)
    inner join plans as p
        on s.plan_id = p.plan_id
    inner join customers as cu
        on s.account_id = cu.account_id
    where s.status in ('active', 'past_due')   -- past_due keeps counting until the subscription is canceled
      and not p.is_free

),

account_mrr as (

    select
        a.mrr_month,
        a.account_id,
        sum(
            a.monthly_value_cents / 100.0
            * case when a.currency = 'USD' then 1.0 else fx.rate_to_usd end
        )                                         as mrr_usd
    from active_at_month_end as a
    left join budget_fx as fx
        on a.currency = fx.currency
       and date_trunc('year', a.mrr_month) = fx.rate_year
    group by 1, 2

),

account_spine as (

    select
        f.account_id,
        f.first_mrr_month,
        m.mrr_month
    from (
        select account_id, min(mrr_month) as first_mrr_month
        from account_mrr
        group by 1
    ) as f
    inner join month_ends as m
        on m.mrr_month >= f.first_mrr_month
       and m.mrr_month <= date_trunc('month', current_date)

),

filled as (

    select
        sp.mrr_month,
        sp.account_id,
        sp.first_mrr_month,
        coalesce(am.mrr_usd, 0)                   as mrr_usd
    from account_spine as sp
    left join account_mrr as am
        on sp.account_id = am.account_id
       and sp.mrr_month = am.mrr_month

),

with_previous as (

    select
        *,
        lag(mrr_usd, 1, 0) over (partition by account_id order by mrr_month) as previous_mrr_usd
    from filled

),

classified as (

    select
        mrr_month,
        account_id,
        round(mrr_usd, 2)                         as mrr_usd,
        round(previous_mrr_usd, 2)                as previous_mrr_usd,
        round(mrr_usd - previous_mrr_usd, 2)      as mrr_change_usd,
        case
            when previous_mrr_usd = 0 and mrr_usd > 0 and mrr_month = first_mrr_month then 'new'
            when previous_mrr_usd = 0 and mrr_usd > 0 then 'reactivation'
            when previous_mrr_usd > 0 and mrr_usd = 0 then 'churn'
            when mrr_usd > previous_mrr_usd then 'expansion'
            when mrr_usd < previous_mrr_usd then 'contraction'
            else 'retained'
        end                                       as movement_type
    from with_previous

)

-- months where a churned account is still at zero carry no information
select * from classified
where not (mrr_usd = 0 and previous_mrr_usd = 0)
