"""What a kiosk's or a device's reading may carry, and the range each value must fall in to be believed.

A reading is refused (422), never stored or classified, when it names a key its kind does not have
(`unknown_field`), when a value is missing or is not a finite number: NaN, Infinity, a boolean or a
string (`bad_measurement`), or when a value lies outside its plausible range, or systolic is not above
diastolic (`implausible_reading`). Every refusal names the field, in Chinese and in details.field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.core.errors import ValidationFailed


@dataclass(frozen=True)
class Field:
    """One value of a reading: its Chinese name, its unit, and the plausible range (both ends included)."""

    label: str
    unit: str
    low: float
    high: float
    required: bool = True


# Plausible ranges, in the units the kiosk sends and the colour thresholds in app/clinic/clinic.py use:
# wider than any living person's reading, narrower than a broken sensor, a unit mix-up (mg/dL sent as
# mmol/L) or a forged request. The keys of each kind are the only keys its reading may carry.
READINGS: dict[str, dict[str, Field]] = {
    "blood_pressure": {
        "systolic": Field("收缩压", "mmHg", 50, 260),        # millimetres of mercury
        "diastolic": Field("舒张压", "mmHg", 30, 160),       # millimetres of mercury; below systolic
        "pulse": Field("脉搏", "次/分", 30, 220, required=False),  # heart rate, beats a minute, if the cuff gives it
    },
    "blood_glucose": {"value": Field("血糖", "mmol/L", 1.0, 35.0)},      # millimoles per litre
    "bmi": {"value": Field("BMI", "kg/m²", 8, 80)},                       # kilograms per square metre
    "uric_acid": {"value": Field("尿酸", "μmol/L", 30, 1500)},            # micromoles per litre
    "cholesterol": {"value": Field("总胆固醇", "mmol/L", 1.0, 20.0)},     # total cholesterol, millimoles per litre
}


def check(kind: str, values: object) -> dict[str, int | float]:
    """A reading's values, each a finite number within its range; ValidationFailed (422) otherwise."""
    fields = READINGS.get(kind)
    if fields is None:
        raise ValidationFailed(f"不支持的测量项目：{str(kind)[:40]}", code="bad_measurement_kind")
    if not isinstance(values, dict):
        raise ValidationFailed("测量值格式不对", code="bad_measurement")
    for key in values:
        if key not in fields:
            name = str(key)[:40]
            raise ValidationFailed(f"不认识的测量字段：{name}", code="unknown_field",
                                   details={"field": name})
    clean: dict[str, int | float] = {}
    for key, field in fields.items():
        if key not in values:
            if field.required:
                raise ValidationFailed(f"缺少{field.label}（{key}）", code="bad_measurement", details={"field": key})
            continue
        value = values[key]
        if not _finite_number(value):
            raise ValidationFailed(f"{field.label}（{key}）不是有效的数值", code="bad_measurement",
                                   details={"field": key})
        if not field.low <= value <= field.high:  # an int too large for a float compares exactly, no overflow
            raise ValidationFailed(f"{field.label}（{key}）应在 {field.low:g}–{field.high:g} {field.unit} 之间",
                                   code="implausible_reading", details={"field": key})
        clean[key] = value
    if kind == "blood_pressure" and clean["systolic"] <= clean["diastolic"]:
        raise ValidationFailed("收缩压（systolic）应高于舒张压（diastolic）", code="implausible_reading",
                               details={"field": "systolic"})
    return clean


def _finite_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)
