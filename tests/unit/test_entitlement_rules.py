"""Entitlement lifecycle rules: transitions, bulk checks, end dates and shown status.

R40–R50, R57, R60, P2, P6, P7, P11.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pointflex.domain.catalog import FormFactor
from pointflex.domain.dates import PACIFIC, day_start, parse_wire_datetime
from pointflex.domain.entitlements import (
    CHARGED_STATUSES,
    EntitlementView,
    Selection,
    SelectionLimits,
    Status,
    TerminationMode,
    TokenStatus,
    check_bulk,
    check_reactivate,
    check_regenerate_token,
    check_removable,
    check_same_product_type,
    check_stop,
    check_update,
    expiry_instant,
    resolve_end,
    shown_status,
)
from pointflex.domain.programs import end_instant
from pointflex.errors import (
    AlreadyInState,
    InvalidDate,
    InvalidInput,
    InvalidState,
    LimitExceeded,
    MixedProductTypes,
    WrongProductType,
)

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # 10:00 PST on Monday 2 March 2026
TODAY = date(2026, 3, 2)
PROGRAM_END = end_instant(date(2027, 3, 2), PACIFIC)
GRACE = timedelta(days=30)
ALL_STATUSES = list(Status)
FORTIGATE_VM = 1
FORTIWEB_VM = 3
FORTIGATE_HW = 101
FORTIAP_HW = 102
PRODUCT_OF = {FormFactor.VM: FORTIGATE_VM, FormFactor.HARDWARE: FORTIGATE_HW, FormFactor.CLOUD: 201}


def view(
    status: Status = Status.ACTIVE,
    form_factor: FormFactor = FormFactor.VM,
    *,
    serial: str = "FGVMMLTM26000001",
    product_type_id: int | None = None,
    removed: bool = False,
    mode: TerminationMode = TerminationMode.FOLLOW_PROGRAM,
) -> EntitlementView:
    return EntitlementView(
        serial=serial,
        form_factor=form_factor,
        product_type_id=PRODUCT_OF[form_factor] if product_type_id is None else product_type_id,
        status=status,
        end_at=PROGRAM_END,
        termination_mode=mode,
        removed=removed,
    )


def hardware(status: Status, n: int = 1, *, product_type_id: int = FORTIGATE_HW) -> EntitlementView:
    return view(
        status,
        FormFactor.HARDWARE,
        serial=f"FGT60F{n:010d}",
        product_type_id=product_type_id,
    )


# --- enums and charged statuses ---------------------------------------------------------------


def test_wire_values_of_statuses_and_modes() -> None:
    assert [s.value for s in Status] == [
        "PENDING",
        "ACTIVE",
        "STOPPED",
        "EXPIRED",
        "GRACE_PERIOD",
    ]
    assert [t.value for t in TokenStatus] == ["NOTUSED", "USED"]
    assert {m.value for m in TerminationMode} == {"FOLLOW_PROGRAM", "USER_DEFINED"}


def test_only_stored_active_is_charged_R12_R13_R14_R17() -> None:
    """GRACE_PERIOD is stored as ACTIVE (R12); PENDING, STOPPED, EXPIRED are not charged."""
    assert frozenset({"ACTIVE"}) == CHARGED_STATUSES
    for status in (Status.PENDING, Status.STOPPED, Status.EXPIRED):
        assert status not in CHARGED_STATUSES


# --- stop (R50, P2, R40) ----------------------------------------------------------------------


@pytest.mark.parametrize("form_factor", list(FormFactor))
@pytest.mark.parametrize("status", [Status.ACTIVE, Status.GRACE_PERIOD])
def test_stop_from_active_or_grace_period_is_allowed_R50_R40(
    status: Status, form_factor: FormFactor
) -> None:
    check_stop(view(status, form_factor))


def test_stop_from_pending_is_allowed_P2() -> None:
    check_stop(view(Status.PENDING))


@pytest.mark.parametrize("form_factor", list(FormFactor))
def test_stop_stopped_is_refused_as_already_in_state_P2(form_factor: FormFactor) -> None:
    with pytest.raises(AlreadyInState) as caught:
        check_stop(view(Status.STOPPED, form_factor))
    assert caught.value.code == 1302
    assert isinstance(caught.value, InvalidState)
    assert "FGVMMLTM26000001" in caught.value.message


def test_stop_expired_is_refused_as_invalid_state_not_already_in_state_R50() -> None:
    with pytest.raises(InvalidState) as caught:
        check_stop(view(Status.EXPIRED))
    assert not isinstance(caught.value, AlreadyInState)
    assert caught.value.code == 1301


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_stop_removed_entitlement_is_refused_R41(status: Status) -> None:
    with pytest.raises(InvalidState) as caught:
        check_stop(view(status, FormFactor.HARDWARE, removed=True))
    assert not isinstance(caught.value, AlreadyInState)
    assert "removed" in caught.value.message


# --- reactivate (R50, P2, P6) -----------------------------------------------------------------


@pytest.mark.parametrize("form_factor", list(FormFactor))
def test_reactivate_from_stopped_is_allowed_R50_R40(form_factor: FormFactor) -> None:
    check_reactivate(view(Status.STOPPED, form_factor))


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.GRACE_PERIOD])
def test_reactivate_active_is_refused_as_already_in_state_P2(status: Status) -> None:
    with pytest.raises(AlreadyInState) as caught:
        check_reactivate(view(status))
    assert caught.value.code == 1302


@pytest.mark.parametrize("status", [Status.STOPPED, Status.PENDING])
def test_reactivate_is_allowed_from_stopped_and_from_pending_as_fortiflex_does(
    status: Status,
) -> None:
    check_reactivate(view(status))  # no refusal


def test_reactivate_expired_is_refused_R50() -> None:
    with pytest.raises(InvalidState) as caught:
        check_reactivate(view(Status.EXPIRED))
    assert not isinstance(caught.value, AlreadyInState)


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_reactivate_removed_entitlement_is_refused_R41(status: Status) -> None:
    with pytest.raises(InvalidState) as caught:
        check_reactivate(view(status, FormFactor.HARDWARE, removed=True))
    assert not isinstance(caught.value, AlreadyInState)
    assert "removed" in caught.value.message


# --- regenerate token (R34) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [Status.PENDING, Status.ACTIVE, Status.GRACE_PERIOD, Status.STOPPED]
)
def test_regenerate_vm_token_is_allowed_while_pending_active_or_stopped_R34(
    status: Status,
) -> None:
    check_regenerate_token(view(status, FormFactor.VM))


def test_regenerate_token_of_expired_vm_is_refused_R34() -> None:
    with pytest.raises(InvalidState) as caught:
        check_regenerate_token(view(Status.EXPIRED, FormFactor.VM))
    assert not isinstance(caught.value, WrongProductType)


@pytest.mark.parametrize("form_factor", [FormFactor.HARDWARE, FormFactor.CLOUD])
@pytest.mark.parametrize("status", ALL_STATUSES)
def test_regenerate_token_of_hardware_or_cloud_is_refused_as_wrong_product_type_R34_R27(
    status: Status, form_factor: FormFactor
) -> None:
    with pytest.raises(WrongProductType) as caught:
        check_regenerate_token(view(status, form_factor))
    assert caught.value.code == 1303


def test_regenerate_token_of_removed_entitlement_is_refused() -> None:
    with pytest.raises(InvalidState) as caught:
        check_regenerate_token(view(Status.STOPPED, FormFactor.VM, removed=True))
    assert "removed" in caught.value.message


# --- update (R47) -----------------------------------------------------------------------------


@pytest.mark.parametrize("form_factor", list(FormFactor))
@pytest.mark.parametrize(
    "status", [Status.PENDING, Status.ACTIVE, Status.GRACE_PERIOD, Status.STOPPED]
)
def test_config_and_description_change_while_pending_active_or_stopped_R47(
    status: Status, form_factor: FormFactor
) -> None:
    check_update(view(status, form_factor), changes_end_date=False)


@pytest.mark.parametrize("status", [Status.PENDING, Status.ACTIVE, Status.GRACE_PERIOD])
def test_end_date_change_while_pending_or_active_R47(status: Status) -> None:
    check_update(view(status), changes_end_date=True)


def test_end_date_change_while_stopped_is_refused_R47() -> None:
    with pytest.raises(InvalidState) as caught:
        check_update(view(Status.STOPPED), changes_end_date=True)
    assert "PENDING or ACTIVE" in caught.value.message


@pytest.mark.parametrize("changes_end_date", [False, True])
def test_update_of_expired_is_refused_R47(changes_end_date: bool) -> None:
    with pytest.raises(InvalidState) as caught:
        check_update(view(Status.EXPIRED), changes_end_date=changes_end_date)
    assert "EXPIRED" in caught.value.message


@pytest.mark.parametrize("changes_end_date", [False, True])
def test_update_of_removed_is_refused_R41(changes_end_date: bool) -> None:
    with pytest.raises(InvalidState) as caught:
        check_update(
            view(Status.STOPPED, FormFactor.HARDWARE, removed=True),
            changes_end_date=changes_end_date,
        )
    assert "removed" in caught.value.message


# --- hardware removal (R41) -------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.STOPPED, Status.EXPIRED])
def test_stopped_or_expired_hardware_can_be_removed_R41(status: Status) -> None:
    check_removable([hardware(status)])


def test_mix_of_stopped_and_expired_hardware_can_be_removed_R41() -> None:
    check_removable([hardware(Status.STOPPED, 1), hardware(Status.EXPIRED, 2)])


@pytest.mark.parametrize("status", [Status.PENDING, Status.ACTIVE, Status.GRACE_PERIOD])
def test_running_hardware_cannot_be_removed_R41(status: Status) -> None:
    with pytest.raises(InvalidState) as caught:
        check_removable([hardware(status)])
    assert "STOPPED or EXPIRED" in caught.value.message


@pytest.mark.parametrize("form_factor", [FormFactor.VM, FormFactor.CLOUD])
@pytest.mark.parametrize("status", [Status.STOPPED, Status.EXPIRED])
def test_only_hardware_can_be_removed_R41_R61(status: Status, form_factor: FormFactor) -> None:
    with pytest.raises(WrongProductType):
        check_removable([view(status, form_factor)])


def test_removal_is_all_or_nothing_when_one_serial_is_active_R41() -> None:
    selection = [hardware(Status.STOPPED, n) for n in range(1, 99)]
    selection.append(hardware(Status.ACTIVE, 99))
    with pytest.raises(InvalidState) as caught:
        check_removable(selection)
    assert "FGT60F0000000099" in caught.value.message
    assert "nothing was removed" in caught.value.message


def test_removal_is_all_or_nothing_when_one_serial_is_a_vm_R41() -> None:
    selection = [hardware(Status.STOPPED, 1), view(Status.STOPPED, FormFactor.VM)]
    with pytest.raises(WrongProductType):
        check_removable(selection)


def test_removal_of_an_already_removed_serial_is_refused_R41() -> None:
    gone = view(Status.STOPPED, FormFactor.HARDWARE, serial="FGT60F0000000007", removed=True)
    with pytest.raises(InvalidState) as caught:
        check_removable([hardware(Status.STOPPED, 1), gone])
    assert "no longer managed" in caught.value.message


def test_removal_accepts_exactly_100_serials_R41() -> None:
    SelectionLimits().check(Selection.REMOVE, 100)
    check_removable([hardware(Status.STOPPED, n) for n in range(100)])


def test_removal_of_101_serials_is_refused_as_limit_exceeded_R41() -> None:
    with pytest.raises(LimitExceeded) as caught:
        SelectionLimits().check(Selection.REMOVE, 101)
    assert caught.value.code == 1004
    assert "at most 100 serials can be removed at once, got 101" in caught.value.message


@pytest.mark.parametrize(
    ("kind", "default"),
    [
        (Selection.CREATE, 100),
        (Selection.REMOVE, 100),
        (Selection.TRANSFER, 100),
        (Selection.SCHEDULE, 1000),
        (Selection.STATUS, 10_000),
    ],
)
def test_each_selection_kind_has_its_limit_R38_R41(kind: Selection, default: int) -> None:
    limits = SelectionLimits()
    assert limits.of(kind) == default
    limits.check(kind, default)
    with pytest.raises(LimitExceeded):
        limits.check(kind, default + 1)


def test_raising_the_per_request_limit_moves_create_remove_and_transfer_together() -> None:
    limits = SelectionLimits(per_request=250)
    for kind in (Selection.CREATE, Selection.REMOVE, Selection.TRANSFER):
        limits.check(kind, 250)
    assert limits.of(Selection.SCHEDULE) == 1000


def test_a_bulk_selection_of_two_product_types_is_refused_R60() -> None:
    with pytest.raises(MixedProductTypes):
        check_bulk(
            [view(Status.ACTIVE), hardware(Status.ACTIVE, 1)],
            removing=False,
        )


def test_an_empty_bulk_selection_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_bulk([], removing=False)
    assert "select at least one" in caught.value.message


def test_a_bulk_removal_checks_every_serial_is_removable_R41() -> None:
    with pytest.raises(InvalidState):
        check_bulk([hardware(Status.ACTIVE, 1)], removing=True)
    check_bulk([hardware(Status.STOPPED, 1)], removing=False)


def test_removal_of_nothing_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_removable([])
    assert type(caught.value) is InvalidInput


# --- bulk selections of one product type (R60) ------------------------------------------------


def test_bulk_selection_of_one_product_type_is_accepted_R60() -> None:
    check_same_product_type([])
    check_same_product_type([view()])
    check_same_product_type([view(serial=f"FGVMMLTM2600000{n}") for n in range(5)])


def test_bulk_selection_of_mixed_product_types_is_refused_R60() -> None:
    mixed = [
        view(product_type_id=FORTIWEB_VM, serial="FVVM000000000001"),
        view(product_type_id=FORTIGATE_VM),
    ]
    with pytest.raises(MixedProductTypes) as caught:
        check_same_product_type(mixed)
    assert caught.value.code == 1005
    assert "1, 3" in caught.value.message


def test_bulk_remove_of_two_hardware_product_types_is_refused_R60() -> None:
    selection = [
        hardware(Status.STOPPED, 1, product_type_id=FORTIGATE_HW),
        hardware(Status.STOPPED, 2, product_type_id=FORTIAP_HW),
    ]
    check_removable(selection)  # each serial is removable on its own ...
    with pytest.raises(MixedProductTypes):  # ... but not in one bulk action
        check_same_product_type(selection)


def test_bulk_product_type_check_accepts_a_one_shot_iterable_R60() -> None:
    def selection() -> Iterator[EntitlementView]:
        yield view(product_type_id=FORTIGATE_VM)
        yield view(product_type_id=FORTIWEB_VM)

    with pytest.raises(MixedProductTypes):
        check_same_product_type(selection())


# --- resolve_end (R42–R44, P11) ---------------------------------------------------------------


def test_no_end_date_means_follow_program_R42_R43() -> None:
    assert resolve_end(None, NOW, PROGRAM_END) == (
        PROGRAM_END,
        TerminationMode.FOLLOW_PROGRAM,
    )


def test_user_defined_end_in_the_future_is_kept_R42_R44() -> None:
    end = NOW + timedelta(days=10)
    assert resolve_end(end, NOW, PROGRAM_END) == (end, TerminationMode.USER_DEFINED)


def test_user_defined_end_equal_to_program_end_is_allowed_R44() -> None:
    assert resolve_end(PROGRAM_END, NOW, PROGRAM_END) == (
        PROGRAM_END,
        TerminationMode.USER_DEFINED,
    )


def test_user_defined_end_must_not_pass_program_end_R44() -> None:
    with pytest.raises(InvalidDate) as caught:
        resolve_end(PROGRAM_END + timedelta(microseconds=1), NOW, PROGRAM_END)
    assert "program end" in caught.value.message


def test_user_defined_end_equal_to_now_is_refused_P11() -> None:
    with pytest.raises(InvalidDate) as caught:
        resolve_end(NOW, NOW, PROGRAM_END)
    assert "later than now" in caught.value.message


def test_user_defined_end_in_the_past_is_refused_R44() -> None:
    with pytest.raises(InvalidDate):
        resolve_end(NOW - timedelta(days=1), NOW, PROGRAM_END)


def test_user_defined_end_one_microsecond_after_now_is_allowed_P11() -> None:
    end = NOW + timedelta(microseconds=1)
    assert resolve_end(end, NOW, PROGRAM_END) == (end, TerminationMode.USER_DEFINED)


def test_date_only_end_date_of_today_is_already_past_P11() -> None:
    with pytest.raises(InvalidDate):
        resolve_end(parse_wire_datetime(TODAY.isoformat()), NOW, PROGRAM_END)


def test_date_only_end_date_of_today_is_past_even_at_midnight_P11() -> None:
    midnight = day_start(TODAY, PACIFIC)
    with pytest.raises(InvalidDate):
        resolve_end(parse_wire_datetime("2026-03-02"), midnight, PROGRAM_END)


def test_today_with_a_later_time_is_allowed_P11() -> None:
    end = parse_wire_datetime("2026-03-02 18:00:00")
    assert resolve_end(end, NOW, PROGRAM_END) == (end, TerminationMode.USER_DEFINED)


def test_date_only_end_date_of_tomorrow_is_midnight_tomorrow_P11() -> None:
    end, mode = resolve_end(parse_wire_datetime("2026-03-03"), NOW, PROGRAM_END)
    assert end == day_start(date(2026, 3, 3), PACIFIC)
    assert mode is TerminationMode.USER_DEFINED


def test_date_only_end_date_of_the_program_end_date_is_allowed_R44() -> None:
    end, mode = resolve_end(parse_wire_datetime("2027-03-02"), NOW, PROGRAM_END)
    assert end == PROGRAM_END
    assert mode is TerminationMode.USER_DEFINED


def test_date_only_end_date_after_the_program_end_date_is_refused_R44() -> None:
    with pytest.raises(InvalidDate):
        resolve_end(parse_wire_datetime("2027-03-03"), NOW, PROGRAM_END)


@given(st.integers(min_value=-(10**12), max_value=2 * 10**12))
def test_resolve_end_accepts_exactly_the_instants_after_now_up_to_program_end_R44(
    offset_us: int,
) -> None:
    requested = NOW + timedelta(microseconds=offset_us)
    if NOW < requested <= PROGRAM_END:
        assert resolve_end(requested, NOW, PROGRAM_END) == (
            requested,
            TerminationMode.USER_DEFINED,
        )
    else:
        with pytest.raises(InvalidDate):
            resolve_end(requested, NOW, PROGRAM_END)


# --- expiry_instant (R46, R57, P7) ------------------------------------------------------------


def test_user_defined_entitlement_expires_at_its_end_date_R46() -> None:
    end = NOW + timedelta(days=5)
    assert expiry_instant(end, TerminationMode.USER_DEFINED, PROGRAM_END, GRACE) == end


def test_user_defined_end_on_program_end_gets_no_program_grace_R46() -> None:
    assert (
        expiry_instant(PROGRAM_END, TerminationMode.USER_DEFINED, PROGRAM_END, GRACE) == PROGRAM_END
    )


def test_follow_program_entitlement_expires_when_the_program_grace_ends_P7() -> None:
    program_end = end_instant(date(2026, 6, 1), PACIFIC)
    assert expiry_instant(
        program_end, TerminationMode.FOLLOW_PROGRAM, program_end, GRACE
    ) == day_start(date(2026, 7, 1), PACIFIC)


def test_follow_program_expiry_ignores_the_stored_end_R45() -> None:
    """A Follow Program entitlement moves with the program end (R45)."""
    stale = NOW
    extended = end_instant(date(2028, 6, 1), PACIFIC)
    assert expiry_instant(stale, TerminationMode.FOLLOW_PROGRAM, extended, GRACE) == day_start(
        date(2028, 7, 1), PACIFIC
    )


def test_follow_program_with_no_grace_expires_at_program_end() -> None:
    assert (
        expiry_instant(PROGRAM_END, TerminationMode.FOLLOW_PROGRAM, PROGRAM_END, timedelta(0))
        == PROGRAM_END
    )


@pytest.mark.parametrize(
    ("program_end_date", "expected_day"),
    [
        (date(2026, 2, 20), date(2026, 3, 22)),  # grace crosses spring forward
        (date(2026, 10, 20), date(2026, 11, 19)),  # grace crosses fall back
    ],
)
def test_follow_program_expiry_is_pacific_midnight_30_days_after_program_end_across_dst_P7(
    program_end_date: date, expected_day: date
) -> None:
    """P7: 30 days of grace; a day is a Pacific calendar day, so expiry lands on 00:00 local."""
    program_end = end_instant(program_end_date, PACIFIC)
    assert expiry_instant(
        program_end, TerminationMode.FOLLOW_PROGRAM, program_end, GRACE
    ) == day_start(expected_day, PACIFIC)


# --- shown_status (P11, R55, R57) -------------------------------------------------------------


@pytest.mark.parametrize("stored", [Status.PENDING, Status.ACTIVE, Status.STOPPED])
def test_shown_status_is_expired_at_the_expiry_instant_before_the_job_ran_P11(
    stored: Status,
) -> None:
    assert shown_status(stored, NOW, NOW, program_in_grace=False) is Status.EXPIRED
    assert shown_status(stored, NOW + timedelta(days=3), NOW, False) is Status.EXPIRED


@pytest.mark.parametrize("stored", [Status.PENDING, Status.ACTIVE, Status.STOPPED])
def test_shown_status_is_the_stored_one_just_before_expiry(stored: Status) -> None:
    before = NOW - timedelta(microseconds=1)
    assert shown_status(stored, before, NOW, program_in_grace=False) is stored


@pytest.mark.parametrize("in_grace", [False, True])
def test_stored_expired_is_always_shown_expired_R46(in_grace: bool) -> None:
    later = NOW + timedelta(days=365)
    assert shown_status(Status.EXPIRED, NOW, later, program_in_grace=in_grace) is Status.EXPIRED


def test_active_is_shown_as_grace_period_while_the_program_is_in_grace_R55_R57() -> None:
    later = NOW + timedelta(days=1)
    assert shown_status(Status.ACTIVE, NOW, later, program_in_grace=True) is Status.GRACE_PERIOD
    assert shown_status(Status.ACTIVE, NOW, later, program_in_grace=False) is Status.ACTIVE


@pytest.mark.parametrize("stored", [Status.PENDING, Status.STOPPED])
def test_grace_period_is_shown_only_for_active_R55(stored: Status) -> None:
    later = NOW + timedelta(days=1)
    assert shown_status(stored, NOW, later, program_in_grace=True) is stored


def test_expiry_wins_over_grace_period_P7() -> None:
    assert shown_status(Status.ACTIVE, NOW, NOW, program_in_grace=True) is Status.EXPIRED


def test_follow_program_shows_grace_period_then_expired_after_program_end_R57_P7() -> None:
    program_end = end_instant(date(2026, 6, 1), PACIFIC)
    expires = expiry_instant(program_end, TerminationMode.FOLLOW_PROGRAM, program_end, GRACE)
    assert shown_status(Status.ACTIVE, program_end - timedelta(seconds=1), expires, False) is (
        Status.ACTIVE
    )
    assert shown_status(Status.ACTIVE, program_end, expires, True) is Status.GRACE_PERIOD
    assert (
        shown_status(Status.ACTIVE, expires - timedelta(microseconds=1), expires, True)
        is Status.GRACE_PERIOD
    )
    assert shown_status(Status.ACTIVE, expires, expires, True) is Status.EXPIRED


def test_date_only_user_defined_end_is_expired_from_midnight_that_day_P11() -> None:
    end, mode = resolve_end(parse_wire_datetime("2026-04-01"), NOW, PROGRAM_END)
    expires = expiry_instant(end, mode, PROGRAM_END, GRACE)
    last_moment = parse_wire_datetime("2026-03-31 23:59:59.999999")
    assert shown_status(Status.ACTIVE, last_moment, expires, False) is Status.ACTIVE
    assert shown_status(Status.ACTIVE, day_start(date(2026, 4, 1), PACIFIC), expires, False) is (
        Status.EXPIRED
    )
