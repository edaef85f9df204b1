"""Extract an hourly PV capacity factor for Greensboro, NC from the TMY3 file bundled with pvlib.

Source: ``pvlib/data/723170TYA.CSV`` inside the ``pvlib`` package (BSD-3-Clause; run with pvlib 0.16.1), the
NREL TMY3 typical meteorological year for USAF station 723170 (Greensboro Piedmont Triad International
Airport, 36.10 N, 79.95 W, 273 m). TMY3 data are published by NREL (public domain, US Government work).

Time: TMY3 rows are hour-ending timestamps in local standard time (UTC-5, no daylight saving). Each month
comes from a different calendar year (that is what a typical year is); pvlib's ``coerce_year=1990`` puts
them on one non-leap calendar. The output labels each row by the hour it starts (``MM-DD HH:00``, local
standard time); the sun position is taken at the middle of the hour (timestamp minus 30 minutes).

Transformations (pvlib's PVWatts-style chain, all standard pvlib functions):

1. ``pvlib.iotools.read_tmy3(..., map_variables=True)``: GHI, DNI, DHI (W/m^2), air temperature (C), wind
   speed at 10 m (m/s), as measured/modelled in TMY3, no unit conversion.
2. Sun position at mid-hour (``pvlib.solarposition.get_solarposition``), extraterrestrial DNI
   (``pvlib.irradiance.get_extra_radiation``) and relative air mass (``pvlib.atmosphere``).
3. Plane-of-array irradiance on a fixed south-facing plane tilted at the latitude (36.1 deg, azimuth 180 deg),
   Perez transposition, ground albedo 0.2 (``pvlib.irradiance.get_total_irradiance``).
4. Cell temperature from the SAPM model, open-rack glass/glass (``pvlib.temperature.sapm_cell``).
5. DC power per W of DC nameplate: ``pvlib.pvsystem.pvwatts_dc`` with ``gamma_pdc = -0.0037 /C`` (PVWatts
   standard module), times ``1 - 0.14`` for PVWatts' default 14 % system losses (soiling, wiring, mismatch,
   ...).
6. AC power through ``pvlib.inverter.pvwatts`` (nominal efficiency 0.96) with a DC/AC ratio of 1.2, the
   PVWatts default; the inverter clips at its AC rating. The output column ``capacity_factor`` is AC power
   divided by the AC nameplate, so it lies in [0, 1] (0 at night; the inverter's night tare is ignored).

Outputs (``lrm_gym/scenarios/data/``): ``pv-greensboro.csv`` (the typical year, 8760 rows),
``pv-greensboro-summer.csv`` (June-August, 2208 rows) and ``pv-greensboro-winter.csv`` (December, then
January-February, 2160 rows: December first so that the replay runs on from 31 December to 1 January).

Run in a throwaway venv:
``python3 -m venv /tmp/extract-venv && /tmp/extract-venv/bin/pip install pvlib pandas`` then
``/tmp/extract-venv/bin/python scripts/extract_pv_greensboro.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pvlib
from extract_common import command_line, package_version, write_csv

TILT_DEG = 36.1  # latitude tilt
AZIMUTH_DEG = 180.0
ALBEDO = 0.2
GAMMA_PDC = -0.0037
SYSTEM_LOSSES = 0.14
DC_AC_RATIO = 1.2
ETA_INV_NOM = 0.96


def capacity_factor_frame() -> pd.DataFrame:
    path = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
    data, meta = pvlib.iotools.read_tmy3(path, coerce_year=1990, map_variables=True)
    mid_hour = data.index - pd.Timedelta(minutes=30)
    solpos = pvlib.solarposition.get_solarposition(mid_hour, meta["latitude"], meta["longitude"], meta["altitude"])
    solpos.index = data.index
    dni_extra = pvlib.irradiance.get_extra_radiation(mid_hour).to_numpy()
    airmass = pvlib.atmosphere.get_relative_airmass(solpos["apparent_zenith"])
    poa = pvlib.irradiance.get_total_irradiance(
        TILT_DEG,
        AZIMUTH_DEG,
        solpos["apparent_zenith"],
        solpos["azimuth"],
        data["dni"],
        data["ghi"],
        data["dhi"],
        dni_extra=dni_extra,
        airmass=airmass,
        albedo=ALBEDO,
        model="perez",
    )
    poa_global = poa["poa_global"].fillna(0.0).clip(lower=0.0)
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
    temp_cell = pvlib.temperature.sapm_cell(poa_global, data["temp_air"], data["wind_speed"], **params)
    pdc = pvlib.pvsystem.pvwatts_dc(poa_global, temp_cell, pdc0=1.0, gamma_pdc=GAMMA_PDC) * (1.0 - SYSTEM_LOSSES)
    pac0 = 1.0 / DC_AC_RATIO  # AC nameplate per W of DC nameplate
    pac = pvlib.inverter.pvwatts(pdc, pdc0=pac0 / ETA_INV_NOM, eta_inv_nom=ETA_INV_NOM)
    capacity_factor = (pac / pac0).clip(lower=0.0, upper=1.0)
    start = data.index - pd.Timedelta(hours=1)
    return pd.DataFrame(
        {
            "time_local_standard": start.strftime("%m-%d %H:%M"),
            "month": start.month,
            "ghi_w_m2": data["ghi"].to_numpy(),
            "temp_air_c": data["temp_air"].map("{:.1f}".format),  # TMY3 has 0.1 C resolution
            "poa_global_w_m2": poa_global.to_numpy(),
            "capacity_factor": capacity_factor.to_numpy(),
        }
    )


def header(title: str) -> dict[str, str]:
    return {
        "title": title,
        "source": "NREL TMY3 station 723170 (Greensboro Piedmont Triad Intl, NC; 36.10 N, 79.95 W, 273 m), "
        f"file pvlib/data/723170TYA.CSV in pvlib {package_version('pvlib')}",
        "licence": "TMY3 data: NREL, US Government work (public domain); redistributed in pvlib (BSD-3-Clause)",
        "units": "ghi, poa_global: W/m^2 (hourly mean); temp_air: C; capacity_factor: AC power / AC nameplate",
        "time zone": "local standard time UTC-05:00 (no daylight saving); each row is the hour starting at "
        "time_local_standard; months of a typical year come from different years",
        "model": "pvlib PVWatts-style: Perez POA on a fixed plane tilt 36.1 deg, azimuth 180 deg, albedo 0.2; "
        "SAPM cell temperature (open rack, glass/glass); pvwatts_dc gamma -0.0037/C; 14% system losses; "
        "pvwatts inverter, DC/AC 1.2, eta 0.96 (clips at AC nameplate)",
        "command": command_line(),
    }


def main() -> None:
    frame = capacity_factor_frame()
    write_csv("pv-greensboro.csv", header("Hourly PV capacity factor, Greensboro NC, typical year"), frame)
    summer = frame[frame["month"].isin([6, 7, 8])]
    write_csv("pv-greensboro-summer.csv", header("Hourly PV capacity factor, Greensboro NC, June-August"), summer)
    winter = pd.concat([frame[frame["month"] == 12], frame[frame["month"].isin([1, 2])]])
    write_csv(
        "pv-greensboro-winter.csv",
        header("Hourly PV capacity factor, Greensboro NC, December then January-February"),
        winter,
    )
    for name, part in (("year", frame), ("summer", summer), ("winter", winter)):
        cf = part["capacity_factor"]
        print(f"{name}: mean capacity factor {cf.mean():.3f}, max {cf.max():.3f}, peak/mean {cf.max() / cf.mean():.2f}")


if __name__ == "__main__":
    main()
