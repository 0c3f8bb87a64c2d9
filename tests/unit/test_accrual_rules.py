"""Which configuration versions and rate apply to a Pacific day (R11, R18, R20, R23)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pointflex.catalog import default_catalog, default_price_book
from pointflex.domain.accrual import ConfigVersion, day_rate, versions_in_window
from pointflex.domain.catalog import ParamValues
from pointflex.domain.dates import PACIFIC, day_window

DAY = date(2026, 3, 2)
WINDOW = day_window(DAY, PACIFIC)  # [08:00 UTC 2 March, 08:00 UTC 3 March)
US = timedelta(microseconds=1)
CATALOG = default_catalog()
BOOK = default_price_book()


def version(at: datetime, cpu: int, product_type_id: int = 1) -> ConfigVersion:
    return ConfigVersion(at, product_type_id, {1: str(cpu), 2: "ENT"})


def cpu_rate(product_type_id: int, values: ParamValues) -> Decimal:
    """A stand-in price: one point per vCPU, plus 1000 per product type id."""
    cpu = values[1]
    assert isinstance(cpu, str)
    return Decimal(cpu) + 1000 * (product_type_id - 1)


def fgt(cpu: int) -> ParamValues:
    return CATALOG.parse_parameters(1, [{"id": 1, "value": cpu}, {"id": 2, "value": "ENT"}])


# --- versions_in_window -----------------------------------------------------------------------


def test_no_versions_means_no_rate() -> None:
    assert versions_in_window([], WINDOW) == []
    assert day_rate([], WINDOW, cpu_rate) is None


def test_version_created_after_the_day_is_not_in_the_day() -> None:
    later = version(WINDOW.end + timedelta(hours=5), 8)
    assert versions_in_window([later], WINDOW) == []
    assert day_rate([later], WINDOW, cpu_rate) is None


def test_config_version_starting_exactly_at_day_end_is_not_in_the_day_R18() -> None:
    before = version(WINDOW.start - timedelta(days=3), 2)
    at_end = version(WINDOW.end, 8)
    assert versions_in_window([before, at_end], WINDOW) == [before]
    assert day_rate([before, at_end], WINDOW, cpu_rate) == Decimal(2)
    assert day_rate([at_end], WINDOW, cpu_rate) is None


def test_config_version_starting_one_microsecond_before_day_end_is_in_the_day_R18() -> None:
    before = version(WINDOW.start - timedelta(days=3), 2)
    last_moment = version(WINDOW.end - US, 8)
    assert versions_in_window([before, last_moment], WINDOW) == [before, last_moment]
    assert day_rate([before, last_moment], WINDOW, cpu_rate) == Decimal(8)


def test_config_version_starting_exactly_at_day_start_hides_the_previous_one_R18() -> None:
    old = version(WINDOW.start - timedelta(days=3), 8)
    new = version(WINDOW.start, 2)
    assert versions_in_window([old, new], WINDOW) == [new]
    assert day_rate([old, new], WINDOW, cpu_rate) == Decimal(2)


def test_previous_version_counts_when_the_change_is_a_microsecond_into_the_day_R18() -> None:
    old = version(WINDOW.start - timedelta(days=3), 8)
    new = version(WINDOW.start + US, 2)
    assert versions_in_window([old, new], WINDOW) == [old, new]
    assert day_rate([old, new], WINDOW, cpu_rate) == Decimal(8)


def test_version_from_an_earlier_day_without_a_successor_covers_the_day() -> None:
    old = version(WINDOW.start - timedelta(days=400), 4)
    assert versions_in_window([old], WINDOW) == [old]
    assert day_rate([old], WINDOW, cpu_rate) == Decimal(4)


def test_versions_superseded_before_the_day_are_not_in_it() -> None:
    first = version(WINDOW.start - timedelta(days=3), 96)
    second = version(WINDOW.start - timedelta(days=2), 16)
    third = version(WINDOW.start - timedelta(hours=1), 2)
    assert versions_in_window([first, second, third], WINDOW) == [third]
    assert day_rate([first, second, third], WINDOW, cpu_rate) == Decimal(2)


def test_version_created_during_the_day_counts_from_then_R23() -> None:
    created = version(WINDOW.start + timedelta(hours=13), 4)
    assert versions_in_window([created], WINDOW) == [created]
    assert day_rate([created], WINDOW, cpu_rate) == Decimal(4)


def test_change_mid_day_to_a_bigger_size_takes_the_max_R18() -> None:
    small = version(WINDOW.start - timedelta(days=10), 2)
    big = version(WINDOW.start + timedelta(hours=15), 8)
    assert versions_in_window([small, big], WINDOW) == [small, big]
    assert day_rate([small, big], WINDOW, cpu_rate) == Decimal(8)


def test_change_mid_day_to_a_smaller_size_takes_the_max_R18() -> None:
    big = version(WINDOW.start - timedelta(days=10), 8)
    small = version(WINDOW.start + timedelta(hours=15), 2)
    assert day_rate([big, small], WINDOW, cpu_rate) == Decimal(8)


def test_short_lived_peak_during_the_day_sets_the_rate_R18() -> None:
    versions = [
        version(WINDOW.start - timedelta(days=1), 2),
        version(WINDOW.start + timedelta(hours=2), 32),
        version(WINDOW.start + timedelta(hours=2, minutes=5), 4),
        version(WINDOW.start + timedelta(hours=20), 1),
    ]
    assert versions_in_window(versions, WINDOW) == versions
    assert day_rate(versions, WINDOW, cpu_rate) == Decimal(32)


def test_peak_on_the_previous_day_does_not_raise_this_days_rate_R18() -> None:
    versions = [
        version(WINDOW.start - timedelta(hours=5), 96),
        version(WINDOW.start - timedelta(hours=4), 2),
        version(WINDOW.end + timedelta(hours=1), 64),
    ]
    assert versions_in_window(versions, WINDOW) == [versions[1]]
    assert day_rate(versions, WINDOW, cpu_rate) == Decimal(2)


def test_day_rate_passes_each_versions_product_type_and_values_R18_R20() -> None:
    seen: list[tuple[int, ParamValues]] = []

    def recording(product_type_id: int, values: ParamValues) -> Decimal:
        seen.append((product_type_id, values))
        return cpu_rate(product_type_id, values)

    versions = [
        version(WINDOW.start - timedelta(days=5), 64, product_type_id=1),  # outside the day
        version(WINDOW.start - timedelta(days=1), 2, product_type_id=1),
        version(WINDOW.start + timedelta(hours=3), 2, product_type_id=3),
    ]
    assert day_rate(versions, WINDOW, recording) == Decimal(2002)
    assert seen == [(1, {1: "2", 2: "ENT"}), (3, {1: "2", 2: "ENT"})]


def test_fortigate_vm_resized_from_2_to_4_vcpu_mid_day_pays_the_4_vcpu_rate_R18() -> None:
    versions = [
        ConfigVersion(WINDOW.start - timedelta(days=1), 1, fgt(2)),
        ConfigVersion(WINDOW.start + timedelta(hours=9), 1, fgt(4)),
    ]
    assert day_rate(versions, WINDOW, lambda p, v: BOOK.rate(p, v, WINDOW.day)) == Decimal("12.91")
    next_window = day_window(DAY + timedelta(days=1), PACIFIC)
    assert day_rate(versions, next_window, lambda p, v: BOOK.rate(p, v, next_window.day)) == (
        Decimal("12.91")
    )
    previous_window = day_window(DAY - timedelta(days=1), PACIFIC)
    assert day_rate(
        versions, previous_window, lambda p, v: BOOK.rate(p, v, previous_window.day)
    ) == Decimal("6.39")


# --- Pacific days, including DST (R11) --------------------------------------------------------


def test_change_at_0030_pacific_belongs_to_that_pacific_day_not_the_utc_day_R11() -> None:
    old = version(WINDOW.start - timedelta(days=1), 2)
    # 07:30 UTC on 3 March is 23:30 PST on 2 March
    late_evening = version(datetime(2026, 3, 3, 7, 30, tzinfo=UTC), 8)
    assert day_rate([old, late_evening], WINDOW, cpu_rate) == Decimal(8)
    # 08:30 UTC on 3 March is 00:30 PST on 3 March: not on 2 March
    next_morning = version(datetime(2026, 3, 3, 8, 30, tzinfo=UTC), 8)
    assert day_rate([old, next_morning], WINDOW, cpu_rate) == Decimal(2)


def test_23_hour_spring_forward_day_ends_at_midnight_pdt_R11() -> None:
    window = day_window(date(2026, 3, 8), PACIFIC)
    old = version(window.start - timedelta(days=1), 2)
    # 07:30 UTC on 9 March is 00:30 PDT on 9 March: not on 8 March
    after = version(datetime(2026, 3, 9, 7, 30, tzinfo=UTC), 8)
    assert day_rate([old, after], window, cpu_rate) == Decimal(2)
    # 06:30 UTC on 9 March is 23:30 PDT on 8 March
    inside = version(datetime(2026, 3, 9, 6, 30, tzinfo=UTC), 8)
    assert day_rate([old, inside], window, cpu_rate) == Decimal(8)


def test_25_hour_fall_back_day_includes_its_extra_hour_R11() -> None:
    window = day_window(date(2026, 11, 1), PACIFIC)
    old = version(window.start - timedelta(days=1), 2)
    # 07:30 UTC on 2 November is 23:30 PST on 1 November: still in the day
    inside = version(datetime(2026, 11, 2, 7, 30, tzinfo=UTC), 8)
    assert day_rate([old, inside], window, cpu_rate) == Decimal(8)
    after = version(datetime(2026, 11, 2, 8, 0, tzinfo=UTC), 8)
    assert day_rate([old, after], window, cpu_rate) == Decimal(2)


# --- properties -------------------------------------------------------------------------------

offsets = st.lists(
    st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60), min_size=0, max_size=8, unique=True
).map(sorted)


@given(offsets, st.lists(st.integers(min_value=1, max_value=96), min_size=8, max_size=8))
def test_versions_in_window_are_exactly_those_in_effect_at_some_moment_of_the_day_R18(
    minutes: list[int], sizes: list[int]
) -> None:
    versions = [
        version(WINDOW.start + timedelta(minutes=m), cpu)
        for m, cpu in zip(minutes, sizes, strict=False)
    ]
    expected = []
    for index, v in enumerate(versions):
        effect_end = versions[index + 1].valid_from if index + 1 < len(versions) else None
        starts = max(v.valid_from, WINDOW.start)
        ends = WINDOW.end if effect_end is None else min(effect_end, WINDOW.end)
        if starts < ends:
            expected.append(v)
    assert versions_in_window(versions, WINDOW) == expected
    rate = day_rate(versions, WINDOW, cpu_rate)
    if expected:
        assert rate == max(cpu_rate(1, v.values) for v in expected)
    else:
        assert rate is None


@given(offsets, st.lists(st.integers(min_value=1, max_value=96), min_size=8, max_size=8))
def test_day_rate_is_at_least_the_rate_in_effect_at_every_moment_of_the_day_R18(
    minutes: list[int], sizes: list[int]
) -> None:
    versions = [
        version(WINDOW.start + timedelta(minutes=m), cpu)
        for m, cpu in zip(minutes, sizes, strict=False)
    ]
    rate = day_rate(versions, WINDOW, cpu_rate)
    moment = WINDOW.start
    while moment < WINDOW.end:
        current = [v for v in versions if v.valid_from <= moment]
        if current:
            assert rate is not None
            assert rate >= cpu_rate(1, current[-1].values)
        moment += timedelta(minutes=30)
