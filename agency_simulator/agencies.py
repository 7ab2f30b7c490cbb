"""Agency definitions, their simulated behaviour, and the faults that tests change at run time."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

# China has used UTC+8 without daylight saving time since 1991, so a fixed offset is exact.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

DEFAULT_AGENCIES_FILE = Path(__file__).with_name("agencies.json")

CATEGORIES = (
    "household",
    "temporary_residence",
    "hotel_lodging",
    "exit_entry",
    "business_registration",
    "bank_account",
    "land",
    "real_estate",
    "tax",
    "social_security",
    "family_planning",
    "credit_code",
    "vehicle",
    "securities",
    "provident_fund",
    "online_payment",
    "ship",
)
ACTIONS = ("query", "freeze", "renew", "release", "deduct", "seize", "restrict_exit")
# Actions that apply, renew or end a control measure and carry a sealed document.
MEASURE_ACTIONS = ACTIONS[1:]

# A hanging request never lasts longer than this, so a test run or a demo cannot stall.
MAX_TIMEOUT_S = 30.0
MAX_DELAY_MS = 3_600_000


class ConfigError(ValueError):
    """An agencies file or a fault setting that cannot be used."""


@dataclasses.dataclass(frozen=True)
class DelayDistribution:
    """Time from receiving an item to answering it, in milliseconds.

    `uniform` draws from [min_ms, max_ms]. `lognormal` has the given median and shape `sigma`,
    clipped to [min_ms, max_ms], which gives the long tail that slow agencies show.
    """

    kind: str = "uniform"
    min_ms: int = 0
    max_ms: int = 0
    median_ms: int = 0
    sigma: float = 0.0

    @classmethod
    def parse(cls, raw: Any, where: str) -> DelayDistribution:
        if isinstance(raw, list):
            low, high = _parse_range(raw, where)
            return cls(kind="uniform", min_ms=low, max_ms=high)
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: delay must be [min_ms, max_ms] or an object")
        kind = raw.get("distribution", "uniform")
        low = _int_in(raw.get("min_ms", 0), 0, MAX_DELAY_MS, f"{where}.min_ms")
        high = _int_in(raw.get("max_ms", low), low, MAX_DELAY_MS, f"{where}.max_ms")
        if kind == "uniform":
            return cls(kind="uniform", min_ms=low, max_ms=high)
        if kind == "lognormal":
            median = _int_in(raw.get("median_ms"), 1, MAX_DELAY_MS, f"{where}.median_ms")
            sigma = _float_in(raw.get("sigma", 0.5), 0.0, 5.0, f"{where}.sigma")
            return cls(kind="lognormal", min_ms=low, max_ms=high, median_ms=median, sigma=sigma)
        raise ConfigError(f"{where}.distribution: expected uniform or lognormal, got {kind!r}")

    def sample_ms(self, rng: random.Random) -> float:
        if self.kind == "lognormal":
            value = rng.lognormvariate(math.log(self.median_ms), self.sigma)
            return min(max(value, self.min_ms), self.max_ms)
        return rng.uniform(self.min_ms, self.max_ms)

    def to_json(self) -> dict[str, Any]:
        if self.kind == "lognormal":
            return {
                "distribution": "lognormal",
                "median_ms": self.median_ms,
                "sigma": self.sigma,
                "min_ms": self.min_ms,
                "max_ms": self.max_ms,
            }
        return {"distribution": "uniform", "min_ms": self.min_ms, "max_ms": self.max_ms}


@dataclasses.dataclass(frozen=True)
class DailyWindow:
    """A daily period in China time; `end` before `start` means the period spans midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: Any, where: str) -> DailyWindow:
        if not isinstance(text, str) or text.count("-") != 1:
            raise ConfigError(f"{where}: expected 'HH:MM-HH:MM', got {text!r}")
        start_text, end_text = text.split("-")
        try:
            return cls(time.fromisoformat(start_text), time.fromisoformat(end_text))
        except ValueError as error:
            raise ConfigError(f"{where}: invalid time in {text!r}: {error}") from None

    def contains(self, moment: datetime) -> bool:
        now = moment.astimezone(CHINA_TZ).time()
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def seconds_until_end(self, moment: datetime) -> float:
        local = moment.astimezone(CHINA_TZ)
        end = datetime.combine(local.date(), self.end, CHINA_TZ)
        if end <= local:
            end += timedelta(days=1)
        return (end - local).total_seconds()

    def to_json(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclasses.dataclass(frozen=True)
class OutageWindow:
    """A planned outage: either daily (`daily`) or once between two instants."""

    daily: DailyWindow | None = None
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def parse(cls, raw: Any, where: str) -> OutageWindow:
        if isinstance(raw, dict) and "daily" in raw:
            return cls(daily=DailyWindow.parse(raw["daily"], f"{where}.daily"))
        if isinstance(raw, dict) and "start" in raw and "end" in raw:
            start = _parse_instant(raw["start"], f"{where}.start")
            end = _parse_instant(raw["end"], f"{where}.end")
            if end <= start:
                raise ConfigError(f"{where}: end {raw['end']} is not after start {raw['start']}")
            return cls(start=start, end=end)
        raise ConfigError(f"{where}: expected {{'daily': 'HH:MM-HH:MM'}} or {{'start', 'end'}}")

    def seconds_left(self, moment: datetime) -> float | None:
        """Return the seconds until this outage ends, or None when it is not in force."""
        if self.daily is not None:
            if self.daily.contains(moment):
                return self.daily.seconds_until_end(moment)
            return None
        assert self.start is not None and self.end is not None
        if self.start <= moment < self.end:
            return (self.end - moment).total_seconds()
        return None

    def to_json(self) -> dict[str, str]:
        if self.daily is not None:
            return {"daily": self.daily.to_json()}
        assert self.start is not None and self.end is not None
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """Token bucket per agency: `per_second` requests on average, bursts up to `burst`."""

    per_second: float
    burst: int

    @classmethod
    def parse(cls, raw: Any, where: str) -> RateLimit | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected {{'per_second': N, 'burst': N}} or null")
        per_second = _float_in(raw.get("per_second"), 0.001, 1e6, f"{where}.per_second")
        burst = _int_in(raw.get("burst", max(1, math.ceil(per_second))), 1, 10**6, where)
        return cls(per_second=per_second, burst=burst)


@dataclasses.dataclass
class Faults:
    """Behaviour that changes at run time through the admin endpoint.

    Rates are probabilities in [0, 1]: `error_rate` per request (HTTP 500, nothing stored),
    `item_error_rate` per answered item (status `error`), `timeout_rate` per request (the
    response is held back for `timeout_s`), `garbage_rate` per answer body (malformed JSON or
    wrong shapes) and `bad_signature_rate` per answer body (signed with a key that is not the
    agency's).
    """

    error_rate: float = 0.0
    item_error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_s: float = MAX_TIMEOUT_S
    garbage_rate: float = 0.0
    bad_signature_rate: float = 0.0
    outage: bool = False
    delay: DelayDistribution = dataclasses.field(default_factory=DelayDistribution)
    rate_limit: RateLimit | None = None

    RATE_FIELDS = (
        "error_rate",
        "item_error_rate",
        "timeout_rate",
        "garbage_rate",
        "bad_signature_rate",
    )

    def updated(self, changes: Any) -> Faults:
        """Return a copy with the fields in `changes` (admin endpoint JSON) applied."""
        if not isinstance(changes, dict):
            raise ConfigError("faults: expected a JSON object")
        unknown = set(changes) - {
            *self.RATE_FIELDS,
            "timeout_s",
            "outage",
            "delay_ms",
            "rate_limit",
        }
        if unknown:
            raise ConfigError(f"faults: unknown fields {sorted(unknown)}")
        result = dataclasses.replace(self)
        for name in self.RATE_FIELDS:
            if name in changes:
                setattr(result, name, _float_in(changes[name], 0.0, 1.0, f"faults.{name}"))
        if "timeout_s" in changes:
            result.timeout_s = _float_in(changes["timeout_s"], 0.0, MAX_TIMEOUT_S, "timeout_s")
        if "outage" in changes:
            if not isinstance(changes["outage"], bool):
                raise ConfigError("faults.outage: expected true or false")
            result.outage = changes["outage"]
        if "delay_ms" in changes:
            result.delay = DelayDistribution.parse(changes["delay_ms"], "faults.delay_ms")
        if "rate_limit" in changes:
            result.rate_limit = RateLimit.parse(changes["rate_limit"], "faults.rate_limit")
        return result

    def to_json(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in self.RATE_FIELDS},
            "timeout_s": self.timeout_s,
            "outage": self.outage,
            "delay_ms": self.delay.to_json(),
            "rate_limit": dataclasses.asdict(self.rate_limit) if self.rate_limit else None,
        }


@dataclasses.dataclass(frozen=True)
class Agency:
    code: str
    name: str
    kind: str
    categories: tuple[str, ...]
    actions: tuple[str, ...]
    faults: Faults
    service_hours: DailyWindow | None = None
    outage_windows: tuple[OutageWindow, ...] = ()
    # Banks only: the first six digits of the synthetic account numbers.
    account_prefix: str | None = None

    def unavailable_for(self, faults: Faults, moment: datetime) -> tuple[str, float] | None:
        """Return (reason, seconds until open) when the agency serves nothing at `moment`."""
        if faults.outage:
            return ("outage set through the admin endpoint", 30.0)
        for window in self.outage_windows:
            left = window.seconds_left(moment)
            if left is not None:
                return (f"planned outage {window.to_json()}", left)
        hours = self.service_hours
        if hours is not None and not hours.contains(moment):
            until_open = DailyWindow(hours.end, hours.start).seconds_until_end(moment)
            return (f"outside service hours {hours.to_json()} (UTC+08:00)", until_open)
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "categories": list(self.categories),
            "actions": list(self.actions),
            "service_hours": self.service_hours.to_json() if self.service_hours else None,
            "outage_windows": [window.to_json() for window in self.outage_windows],
        }


def load_agencies(path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Agency]:
    """Read an agencies file; `overrides` (fault fields from the command line) win over it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"cannot read agencies file {path}: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("agencies"), list):
        raise ConfigError(f"{path}: expected an object with an 'agencies' list")
    defaults = document.get("defaults", {})
    agencies: dict[str, Agency] = {}
    for index, raw in enumerate(document["agencies"]):
        where = f"{path.name}: agencies[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected an object")
        agency = _parse_agency({**defaults, **raw}, where, overrides or {})
        if agency.code in agencies:
            raise ConfigError(f"{where}: duplicate agency code {agency.code!r}")
        agencies[agency.code] = agency
    if not agencies:
        raise ConfigError(f"{path}: no agencies")
    return agencies


def _parse_agency(raw: dict[str, Any], where: str, overrides: dict[str, Any]) -> Agency:
    code = raw.get("code")
    if not isinstance(code, str) or not code.isascii() or not code or "/" in code:
        raise ConfigError(f"{where}.code: expected a non-empty ASCII code without '/'")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.name: missing")
    categories = tuple(raw.get("categories", ()))
    for category in categories:
        if category not in CATEGORIES:
            raise ConfigError(f"{where}.categories: unknown category {category!r}")
    actions = tuple(raw.get("actions", ("query",)))
    for action in actions:
        if action not in ACTIONS:
            raise ConfigError(f"{where}.actions: unknown action {action!r}")
    fault_fields = {
        key: raw[key]
        for key in (*Faults.RATE_FIELDS, "timeout_s", "delay_ms", "rate_limit")
        if key in raw
    }
    faults = Faults().updated(fault_fields).updated(overrides)
    hours = raw.get("service_hours")
    windows = raw.get("outage_windows", [])
    if not isinstance(windows, list):
        raise ConfigError(f"{where}.outage_windows: expected a list")
    prefix = raw.get("account_prefix")
    if prefix is not None and not (isinstance(prefix, str) and len(prefix) == 6):
        raise ConfigError(f"{where}.account_prefix: expected six digits")
    return Agency(
        code=code,
        name=name,
        kind=str(raw.get("kind", "other")),
        categories=categories,
        actions=actions,
        faults=faults,
        service_hours=DailyWindow.parse(hours, f"{where}.service_hours") if hours else None,
        outage_windows=tuple(
            OutageWindow.parse(window, f"{where}.outage_windows[{number}]")
            for number, window in enumerate(windows)
        ),
        account_prefix=prefix,
    )


def _parse_range(raw: list[Any], where: str) -> tuple[int, int]:
    if len(raw) != 2:
        raise ConfigError(f"{where}: expected [min_ms, max_ms]")
    low = _int_in(raw[0], 0, MAX_DELAY_MS, f"{where}[0]")
    high = _int_in(raw[1], low, MAX_DELAY_MS, f"{where}[1]")
    return low, high


def _parse_instant(raw: Any, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        raise ConfigError(f"{where}: invalid RFC 3339 time {raw!r}") from None
    if value.tzinfo is None:
        raise ConfigError(f"{where}: {raw!r} has no UTC offset")
    return value


def _int_in(raw: Any, low: int, high: int, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw):
        raise ConfigError(f"{where}: expected an integer, got {raw!r}")
    if not low <= raw <= high:
        raise ConfigError(f"{where}: {raw} is outside [{low}, {high}]")
    return int(raw)


def _float_in(raw: Any, low: float, high: float, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ConfigError(f"{where}: expected a number, got {raw!r}")
    if not low <= raw <= high:
        raise ConfigError(f"{where}: {raw} is outside [{low}, {high}]")
    return float(raw)
