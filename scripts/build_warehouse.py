"""Build Brightline's demo DuckDB warehouse: the tables the corpus's semantic models point at, with seeded data.

Run from the repository root: `.venv/bin/python scripts/build_warehouse.py [PATH]` (default
.finbot/warehouse.duckdb, git-ignored), then set `warehouse.path` in config.yaml. The same seed gives the same
rows on every run, in about a second.

Tables (schema main): fct_mrr (customer x month-end snapshots, Dec 2023 - Dec 2025), fct_mrr_movements (derived
from consecutive fct_mrr months, so opening MRR plus movements equals closing MRR), fct_invoice_lines (monthly plans
invoiced monthly, annual plans yearly in full, setup fees, usage, credit notes), fct_bookings (new logos, expansions,
annual renewals) and metricflow_time_spine (one row per day, 2023-2026); then scripts/warehouse_finance.py derives
payments, Lumen balance transactions, fees, disputes, collections, month-end AR, the revenue schedule, deferred and
unbilled balances, retention cohorts, the GL P&L, cash burn and dim_calendar. `finbot metrics --check` lists any
metric the warehouse cannot compute, with why.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
from warehouse_finance import add_finance_tables  # scripts/ is on sys.path when this file runs as a script

SEED = 20250101
CUSTOMERS = 420
FIRST_MONTH = date(2023, 12, 1)  # the opening snapshot; movements start in January 2024
MONTHS = 25
TIERS = (("starter", 0.6, 50, 300), ("growth", 0.3, 500, 2500), ("enterprise", 0.1, 4000, 15000))
REGIONS = (("north_america", "USD", "brightline_inc"), ("emea", "EUR", "brightline_gmbh"),
           ("emea", "GBP", "brightline_uk"), ("apac", "AUD", "brightline_inc"),
           ("north_america", "CAD", "brightline_inc"))
TERMS = {"starter": "due_on_receipt", "growth": "net_30", "enterprise": "net_45"}

TABLES = {
    "fct_mrr": "customer_month_id VARCHAR, customer_id VARCHAR, snapshot_month DATE, plan_tier VARCHAR, "
               "billing_interval VARCHAR, currency VARCHAR, region VARCHAR, legal_entity VARCHAR, "
               "mrr_usd DECIMAL(18,2)",
    "fct_mrr_movements": "mrr_movement_id VARCHAR, customer_id VARCHAR, movement_month DATE, movement_type VARCHAR, "
                         "plan_tier VARCHAR, billing_interval VARCHAR, currency VARCHAR, region VARCHAR, "
                         "mrr_change_usd DECIMAL(18,2)",
    "fct_invoice_lines": "invoice_line_id VARCHAR, invoice_id VARCHAR, customer_id VARCHAR, invoice_date DATE, "
                         "line_type VARCHAR, billing_interval VARCHAR, payment_terms VARCHAR, currency VARCHAR, "
                         "legal_entity VARCHAR, amount_excl_tax_usd DECIMAL(18,2)",
    "fct_bookings": "order_form_id VARCHAR, customer_id VARCHAR, booking_date DATE, booking_type VARCHAR, "
                    "plan_tier VARCHAR, billing_interval VARCHAR, currency VARCHAR, region VARCHAR, "
                    "total_contract_value_usd DECIMAL(18,2), first_year_subscription_value_usd DECIMAL(18,2)",
}


@dataclass
class Customer:
    id: str
    tier: str
    interval: str
    region: str
    currency: str
    entity: str
    mrr: list[float]  # month-end MRR per month index (0 = not active)


def month(index: int) -> date:
    """The first day of the month `index` months after FIRST_MONTH."""
    total = FIRST_MONTH.year * 12 + FIRST_MONTH.month - 1 + index
    return date(total // 12, total % 12 + 1, 1)


def simulate(rng: random.Random) -> list[Customer]:
    """Customers with a month-end MRR path: new logos, expansion, contraction, churn and reactivation."""
    customers = []
    for n in range(1, CUSTOMERS + 1):
        tier = rng.choices([t[0] for t in TIERS], [t[1] for t in TIERS])[0]
        low, high = next((t[2], t[3]) for t in TIERS if t[0] == tier)
        interval = "annual" if rng.random() < (0.8 if tier == "enterprise" else 0.3) else "monthly"
        region, currency, entity = rng.choice(REGIONS)
        # a third were customers before the window opened; the rest start during it
        start = 0 if rng.random() < 0.35 else rng.randrange(1, MONTHS)
        mrr = [0.0] * MONTHS
        value = round(rng.uniform(low, high), 2)
        active = True
        for i in range(start, MONTHS):
            if i > start:
                if active:
                    anniversary = (i - start) % 12 == 0
                    if (interval == "monthly" and rng.random() < 0.025) or (anniversary and rng.random() < 0.12):
                        active = False
                    elif rng.random() < 0.04:
                        value = round(value * rng.uniform(1.1, 1.4), 2)
                    elif rng.random() < 0.02:
                        value = round(value * rng.uniform(0.7, 0.9), 2)
                elif rng.random() < 0.06:
                    active = True
            mrr[i] = value if active else 0.0
        customers.append(Customer(f"cus_{n:04d}", tier, interval, region, currency, entity, mrr))
    return customers


def mrr_rows(customers: list[Customer], rng: random.Random) -> list[list[object]]:
    rows: list[list[object]] = []
    for c in customers:
        for i, value in enumerate(c.mrr):
            if value > 0:
                rows.append([f"{c.id}_{month(i):%Y%m}", c.id, month(i), c.tier, c.interval, c.currency, c.region,
                             c.entity, f"{value:.2f}"])
    # a few 100%-discounted subscriptions: a snapshot row with zero MRR, not an active customer
    for c in rng.sample(customers, 6):
        i = MONTHS - 1
        if c.mrr[i] == 0:
            rows.append([f"{c.id}_{month(i):%Y%m}", c.id, month(i), c.tier, c.interval, c.currency, c.region,
                         c.entity, "0.00"])
    return rows


def movement_rows(customers: list[Customer]) -> list[list[object]]:
    rows: list[list[object]] = []
    for c in customers:
        seen = c.mrr[0] > 0
        for i in range(1, MONTHS):
            before, after = c.mrr[i - 1], c.mrr[i]
            if before == after:
                continue
            if before == 0:
                kind = "reactivation" if seen else "new"
            elif after == 0:
                kind = "churn"
            else:
                kind = "expansion" if after > before else "contraction"
            seen = seen or after > 0
            rows.append([f"mov_{c.id}_{month(i):%Y%m}", c.id, month(i), kind, c.tier, c.interval, c.currency,
                         c.region, f"{after - before:.2f}"])
    return rows


def invoice_rows(customers: list[Customer], rng: random.Random) -> list[list[object]]:
    rows: list[list[object]] = []
    line = 0

    def add(c: Customer, day: date, kind: str, amount: float, interval: str | None) -> None:
        nonlocal line
        line += 1
        rows.append([f"il_{line:06d}", f"in_{c.id}_{day:%Y%m%d}", c.id, day, kind, interval, TERMS[c.tier],
                     c.currency, c.entity, f"{amount:.2f}"])

    for c in customers:
        offset = int(c.id[-4:]) % 27
        first = next((i for i, v in enumerate(c.mrr) if v > 0), None)
        # customers from before the window renew in their own anniversary month, not all in the first one
        anchor = first if first else offset % 12
        for i, value in enumerate(c.mrr):
            if value <= 0:
                continue
            day = month(i) + timedelta(days=offset)
            # spot rate differs a little from the budget rate MRR uses
            spot = 1.0 if c.currency == "USD" else rng.uniform(0.97, 1.03)
            if c.interval == "monthly":
                add(c, day, "subscription", value * spot, "monthly")
            elif anchor is not None and (i - anchor) % 12 == 0:
                add(c, day, "subscription", value * 12 * spot, "annual")
            if c.tier != "starter" and rng.random() < 0.2:
                add(c, day, "usage", rng.uniform(50, 900), None)
            if i == first and i > 0 and c.tier == "enterprise":
                add(c, day, "setup_fee", rng.choice([2500, 5000, 10000]), None)
            if rng.random() < 0.01:
                add(c, day + timedelta(days=9), "credit_note", -round(value * 0.5, 2), None)
    return rows


def booking_rows(customers: list[Customer], rng: random.Random) -> list[list[object]]:
    rows: list[list[object]] = []
    for c in customers:
        first = next((i for i, v in enumerate(c.mrr) if v > 0), None)
        for i in range(1, MONTHS):
            before, after = c.mrr[i - 1], c.mrr[i]
            kind = None
            if before == 0 and after > 0 and i == first:
                kind, value = "new_logo", after
            elif 0 < before < after:
                kind, value = "expansion", after - before
            elif first is not None and c.interval == "annual" and after > 0 and i != first and (i - first) % 12 == 0:
                kind, value = "renewal", after
            if kind is None:
                continue
            signed = month(i) - timedelta(days=rng.randrange(1, 20))
            first_year = value * 12 if c.interval == "annual" else value
            years = rng.choice([1, 1, 2, 3]) if c.interval == "annual" else 1
            rows.append([f"of_{c.id}_{month(i):%Y%m}", c.id, signed, kind, c.tier, c.interval, c.currency, c.region,
                         f"{first_year * years:.2f}", f"{first_year:.2f}"])
    return rows


def build(path: Path) -> dict[str, int]:
    """Write the warehouse to `path` (replacing it); returns {table: row count}."""
    rng = random.Random(SEED)
    customers = simulate(rng)
    data = {
        "fct_mrr": mrr_rows(customers, rng),
        "fct_mrr_movements": movement_rows(customers),
        "fct_invoice_lines": invoice_rows(customers, rng),
        "fct_bookings": booking_rows(customers, rng),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as scratch, duckdb.connect(str(partial)) as con:
        for table, rows in data.items():
            csv_path = Path(scratch) / f"{table}.csv"
            with csv_path.open("w", newline="") as handle:
                csv.writer(handle).writerows(rows)
            columns = ", ".join(f"'{c.split()[0]}': '{' '.join(c.split()[1:])}'" for c in TABLES[table].split(", "))
            con.execute(f"create table {table} ({TABLES[table]})")
            con.execute(f"insert into {table} select * from read_csv('{csv_path}', header=false, "
                        f"columns={{{columns}}}) order by 1")
        con.execute("create table metricflow_time_spine as select cast(d as date) as date_day "
                    "from range(date '2023-01-01', date '2027-01-01', interval 1 day) t(d)")
        # after the subscription tables, from their rows and a random stream of its own: they never change
        tables = [*TABLES, "metricflow_time_spine", *add_finance_tables(con, Path(scratch))]
        counts = {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables}
    partial.replace(path)
    return counts


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".finbot/warehouse.duckdb")
    for table, count in build(path).items():
        print(f"{table:24} {count:>7,} rows")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
