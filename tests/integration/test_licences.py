"""The licence service on a real database: activation (P3, R26, R31–R33), verdicts, keys."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import DBAPIError

from pointflex.bootstrap import Runtime, build_runtime
from pointflex.clock import ManualClock
from pointflex.config import Settings
from pointflex.domain.ends import RequestedEnd
from pointflex.domain.entitlements import Status
from pointflex.errors import AccountSuspended, InvalidInput, InvalidState, NotFound, Throttled
from pointflex.services.configs import configurations as configs
from pointflex.services.context import read, write
from pointflex.services.entitlements import changes, creation
from pointflex.services.entitlements.lifecycle import apply_expiry
from pointflex.services.entitlements.views import Entitlement, load_records
from pointflex.services.licensing import guard as licence_guard
from pointflex.services.licensing import licences
from pointflex.services.points.accrual import accrue_through
from pointflex.signing.keys import keyring
from pointflex.store.tables import audit_log, auth_failures, signing_keys
from pointflex.store.tables import licences as licence_rows
from pointflex_verify import KeySet, VerificationError, verify_answer, verify_licence
from tests.builders import FGT_HW, OPERATOR, config, world
from tests.conftest import BACKEND

ME, OTHER = "instance-a-4c9e", "instance-b-77f1"


def nonce(tag: str = "n") -> str:
    return (tag * 16)[:16] + "-0123456789"


def published(rt: Runtime) -> KeySet:
    return KeySet.from_document({"keys": [k.document() for k in keyring(rt).public_keys()]})


def vm(rt: Runtime, **create: Any) -> Entitlement:
    w = world(rt)
    (record,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id, **create)
    assert record.token is not None
    return record


def activate(rt: Runtime, token: str, instance: str = ME, tag: str = "a") -> dict[str, Any]:
    document = licences.activate(rt, token, instance, "7.2.3", 2, nonce(tag), "10.0.0.1")
    return verify_licence(document, published(rt), instance_id=instance, nonce=nonce(tag))


def check(rt: Runtime, payload: dict[str, Any], instance: str = ME) -> dict[str, Any]:
    """Validate the licence ``payload`` as ``instance``; the verified answer."""
    answer = licences.validate(
        rt, payload["licenceId"], payload["serialNumber"], instance, nonce("v"), "7.2.3"
    )
    return verify_answer(answer, published(rt), nonce=nonce("v"), instance_id=instance)


def stored(rt: Runtime, serial: str) -> Entitlement:
    with read(rt) as conn:
        return load_records(rt, conn, OPERATOR, [serial])[0]


def licence_count(rt: Runtime, serial: str) -> int:
    with read(rt) as conn:
        rows = conn.execute(select(licence_rows).where(licence_rows.c.serial == serial)).all()
    return len(rows)


def actions(rt: Runtime) -> list[str]:
    with read(rt) as conn:
        return list(conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars())


# --------------------------------------------------------------------------- activation


def test_activation_turns_pending_active_marks_the_token_used_and_signs_a_licence(
    rt: Runtime,
) -> None:
    record = vm(rt)
    assert record.token is not None
    payload = activate(rt, record.token)
    after = stored(rt, record.serial)
    assert after.status is Status.ACTIVE
    assert after.token_status == "USED"
    assert payload["serialNumber"] == record.serial
    assert payload["accountId"] == record.account_id
    assert payload["instanceId"] == ME
    assert payload["licenceId"].startswith("lic_")
    assert payload["productType"] == {"id": 1, "name": rt.catalog.product(1).name}
    assert payload["sizing"]["vcpus"] == 2
    assert {"id": 2, "name": "SERVICEPACK", "value": "ENT"} in payload["sizing"]["parameters"]
    assert payload["issuedAt"] == "2026-03-02T18:00:00Z"
    assert payload["expiresAt"] == "2027-01-01T08:00:00Z"  # the program's end, Pacific midnight
    assert payload["validationIntervalSeconds"] == rt.settings.licence_validation_interval_seconds
    assert licence_count(rt, record.serial) == 1
    assert "licence.activate" in actions(rt)


def test_activating_a_skip_pending_entitlement_keeps_it_active_and_uses_the_token(
    rt: Runtime,
) -> None:
    record = vm(rt, skip_pending=True)
    assert record.token is not None
    assert record.status is Status.ACTIVE
    activate(rt, record.token)
    assert stored(rt, record.serial).token_status == "USED"


def test_the_same_instance_retrying_gets_the_same_licence_signed_over_its_new_nonce(
    rt: Runtime,
) -> None:
    record = vm(rt)
    assert record.token is not None
    first = activate(rt, record.token, tag="a")
    again = activate(rt, record.token, tag="b")  # verify_licence checks the new nonce
    assert again["licenceId"] == first["licenceId"]
    assert again["issuedAt"] == first["issuedAt"]
    assert licence_count(rt, record.serial) == 1
    assert actions(rt).count("licence.reissue") == 1


def test_a_used_token_presented_by_another_instance_is_refused(rt: Runtime) -> None:
    record = vm(rt)
    assert record.token is not None
    activate(rt, record.token, ME)
    with pytest.raises(InvalidState, match="another instance"):
        activate(rt, record.token, OTHER)
    assert licence_count(rt, record.serial) == 1
    assert "licence.activate_refused" in actions(rt)


def test_an_unknown_token_is_refused_and_recorded_as_a_guess(rt: Runtime) -> None:
    with pytest.raises(NotFound):
        activate(rt, "0123456789ABCDEF0123")
    with read(rt) as conn:
        rows = conn.execute(select(auth_failures)).all()
    assert [(r.username, r.client_address) for r in rows] == [(licence_guard.MARKER, "10.0.0.1")]
    assert "licence.activate_refused" in actions(rt)


def test_token_guessing_is_throttled_per_client_address_until_the_window_passes(
    settings: Settings, clock: ManualClock, engine: Engine
) -> None:
    rt = build_runtime(
        settings.model_copy(update={"licence_max_failures_per_address": 3}), clock, engine
    )
    record = vm(rt)
    assert record.token is not None
    for _ in range(3):
        with pytest.raises(NotFound):
            licences.activate(rt, "FFFFFFFFFFFFFFFFFFFF", ME, "7.2.3", 2, nonce(), "10.0.0.9")
    with pytest.raises(Throttled) as throttled:  # even a good token, from that address
        licences.activate(rt, record.token, ME, "7.2.3", 2, nonce(), "10.0.0.9")
    assert 0 < throttled.value.retry_after <= rt.settings.licence_failure_window_seconds + 1
    assert stored(rt, record.serial).token_status == "NOTUSED"
    clock.advance(timedelta(seconds=rt.settings.licence_failure_window_seconds + 1))
    licences.activate(rt, record.token, ME, "7.2.3", 2, nonce(), "10.0.0.9")


def test_guesses_from_one_address_do_not_throttle_another(
    settings: Settings, clock: ManualClock, engine: Engine
) -> None:
    rt = build_runtime(
        settings.model_copy(update={"licence_max_failures_per_address": 2}), clock, engine
    )
    record = vm(rt)
    assert record.token is not None
    for _ in range(2):
        with pytest.raises(NotFound):
            licences.activate(rt, "FFFFFFFFFFFFFFFFFFFF", ME, "", None, nonce(), "10.0.0.9")
    licences.activate(rt, record.token, ME, "", None, nonce(), "10.0.0.10")


def test_a_stopped_entitlement_refuses_activation_and_its_token_stays_unused(
    rt: Runtime,
) -> None:
    record = vm(rt, skip_pending=True)
    assert record.token is not None
    changes.stop(rt, OPERATOR, [record.serial])
    with pytest.raises(InvalidState, match="STOPPED"):
        activate(rt, record.token)
    assert stored(rt, record.serial).token_status == "NOTUSED"
    changes.reactivate(rt, OPERATOR, [record.serial])
    activate(rt, record.token)


def test_an_entitlement_past_its_end_refuses_activation_before_the_expiry_job_ran(
    rt: Runtime, clock: ManualClock
) -> None:
    record = vm(rt, end=RequestedEnd.at(datetime(2026, 3, 5, 8, 0, tzinfo=UTC)))
    assert record.token is not None
    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    with pytest.raises(InvalidState, match="EXPIRED"):
        activate(rt, record.token)
    assert stored(rt, record.serial).token_status == "NOTUSED"


@contextmanager
def failing_licence_insert(engine: Engine) -> Iterator[None]:
    """Make the database refuse every new licence row (a fault in the middle of redemption)."""
    with engine.begin() as conn:
        if BACKEND == "postgres":
            conn.execute(
                text(
                    "CREATE FUNCTION pf_test_fail() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER pf_test_fail BEFORE INSERT ON licences "
                    "FOR EACH ROW EXECUTE FUNCTION pf_test_fail()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER pf_test_fail BEFORE INSERT ON licences "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            )
    try:
        yield
    finally:
        with engine.begin() as conn:
            if BACKEND == "postgres":
                conn.execute(text("DROP TRIGGER pf_test_fail ON licences"))
                conn.execute(text("DROP FUNCTION pf_test_fail()"))
            else:
                conn.execute(text("DROP TRIGGER pf_test_fail"))


def test_a_failure_during_redemption_leaves_the_token_unused_and_the_entitlement_pending(
    rt: Runtime, engine: Engine
) -> None:
    record = vm(rt)
    assert record.token is not None
    with failing_licence_insert(engine), pytest.raises(DBAPIError, match="injected failure"):
        activate(rt, record.token)
    after = stored(rt, record.serial)
    assert (after.status, after.token_status) == (Status.PENDING, "NOTUSED")  # P3
    assert licence_count(rt, record.serial) == 0
    activate(rt, record.token)  # the fault is gone: the same token still works


# --------------------------------------------------------------------------- R33 supersede


def test_a_regenerated_token_once_redeemed_supersedes_the_earlier_licence(rt: Runtime) -> None:
    record = vm(rt)
    assert record.token is not None
    old = activate(rt, record.token, ME)
    fresh = changes.regenerate_token(rt, OPERATOR, record.serial)
    assert fresh.token is not None
    assert check(rt, old)["verdict"] == "VALID"  # revoked only once the new token is used
    with pytest.raises(NotFound):  # R32: the old token is gone, even for its own instance
        activate(rt, record.token, ME)
    new = activate(rt, fresh.token, OTHER)
    assert check(rt, old)["verdict"] == "SUPERSEDED"
    assert check(rt, new, OTHER)["verdict"] == "VALID"
    assert new["licenceId"] != old["licenceId"]
    with read(rt) as conn:
        row = conn.execute(
            select(licence_rows).where(licence_rows.c.licence_id == old["licenceId"])
        ).one()
    assert row.superseded_by == new["licenceId"]


# --------------------------------------------------------------------------- verdicts


def test_an_unknown_licence_or_a_licence_of_another_serial_is_unknown(rt: Runtime) -> None:
    record = vm(rt)
    assert record.token is not None
    payload = activate(rt, record.token)
    assert check(rt, {**payload, "licenceId": "lic_" + "0" * 32})["verdict"] == "UNKNOWN"
    answer = check(rt, {**payload, "serialNumber": "FGVMMLTM26999999"})
    assert answer["verdict"] == "UNKNOWN"
    assert "sizing" not in answer
    assert answer["expiresAt"] is None


def test_another_instance_validating_a_licence_is_a_duplicate(rt: Runtime) -> None:
    record = vm(rt)
    assert record.token is not None
    payload = activate(rt, record.token)
    answer = check(rt, payload, OTHER)
    assert answer["verdict"] == "DUPLICATE"
    assert answer["instanceId"] == OTHER
    assert "sizing" not in answer


def test_duplicate_comes_before_superseded_and_superseded_before_stopped(rt: Runtime) -> None:
    record = vm(rt)
    assert record.token is not None
    old = activate(rt, record.token, ME)
    fresh = changes.regenerate_token(rt, OPERATOR, record.serial)
    assert fresh.token is not None
    activate(rt, fresh.token, OTHER)
    changes.stop(rt, OPERATOR, [record.serial])
    assert check(rt, old, "a-copy-of-me")["verdict"] == "DUPLICATE"
    assert check(rt, old, ME)["verdict"] == "SUPERSEDED"


def test_a_stopped_entitlement_answers_stopped_and_valid_again_after_reactivation(
    rt: Runtime,
) -> None:
    record = vm(rt)
    assert record.token is not None
    payload = activate(rt, record.token)
    changes.stop(rt, OPERATOR, [record.serial])
    assert check(rt, payload)["verdict"] == "STOPPED"
    changes.reactivate(rt, OPERATOR, [record.serial])
    assert check(rt, payload)["verdict"] == "VALID"


def test_an_end_date_already_passed_answers_expired_before_and_after_the_expiry_job(
    rt: Runtime, clock: ManualClock
) -> None:
    record = vm(rt, end=RequestedEnd.at(datetime(2026, 3, 5, 8, 0, tzinfo=UTC)))
    assert record.token is not None
    payload = activate(rt, record.token)
    assert payload["expiresAt"] == "2026-03-05T08:00:00Z"
    clock.set(datetime(2026, 3, 5, 8, 0, tzinfo=UTC))
    answer = check(rt, payload)
    assert (answer["verdict"], answer["reason"]) == ("EXPIRED", None)  # P11: no job yet
    with write(rt) as conn:
        apply_expiry(rt, conn, clock.now())
    assert stored(rt, record.serial).stored_status is Status.EXPIRED
    assert check(rt, payload)["verdict"] == "EXPIRED"


def test_program_expiry_grace_is_still_valid_and_expired_once_the_grace_ends(
    rt: Runtime, clock: ManualClock
) -> None:
    w = world(rt, end=date(2026, 3, 10))
    (record,) = creation.create_vm(rt, OPERATOR, config_id=config(rt, w.prepaid).id)
    assert record.token is not None
    payload = activate(rt, record.token)
    clock.set(datetime(2026, 3, 20, 18, 0, tzinfo=UTC))
    assert stored(rt, record.serial).status is Status.GRACE_PERIOD  # R57
    assert check(rt, payload)["verdict"] == "VALID"
    clock.set(datetime(2026, 4, 9, 7, 0, tzinfo=UTC))  # 00:00 Pacific (PDT), 30 days on (P7)
    assert check(rt, payload)["verdict"] == "EXPIRED"


def test_a_valid_answer_carries_the_current_configuration_and_its_vcpus(rt: Runtime) -> None:
    record = vm(rt)
    assert record.token is not None
    payload = activate(rt, record.token)
    four = [{"id": 1, "value": "4"}, {"id": 2, "value": "ENT"}]
    configs.update_config(rt, OPERATOR, record.config_id, parameters=four)
    answer = check(rt, payload)
    assert answer["verdict"] == "VALID"
    assert answer["reason"] is None
    assert answer["sizing"]["vcpus"] == 4
    wire = rt.catalog.to_wire(1, configs.get_config(rt, OPERATOR, record.config_id).values)
    assert answer["sizing"]["parameters"] == wire
    assert answer["licenceId"] == payload["licenceId"]
    assert answer["checkedAt"] == "2026-03-02T18:00:00Z"


def test_hardware_validates_by_serial_and_a_removed_device_is_expired_with_reason(
    rt: Runtime,
) -> None:
    w = world(rt)
    hw_config = config(rt, w.prepaid, FGT_HW, product=101, name="hw")
    creation.create_hardware(rt, OPERATOR, config_id=hw_config.id, serials=["FGT60FTK19000010"])

    def hardware(serial: str) -> dict[str, Any]:
        answer = licences.validate(rt, None, serial, "fgt-box", nonce("h"))
        return verify_answer(answer, published(rt), nonce=nonce("h"), instance_id="fgt-box")

    valid = hardware("fgt60ftk19000010")
    assert (valid["verdict"], valid["licenceId"]) == ("VALID", None)
    assert valid["serialNumber"] == "FGT60FTK19000010"
    assert valid["sizing"]["vcpus"] is None  # a product without a CPU parameter
    assert hardware("FGT60FTK19999999")["verdict"] == "UNKNOWN"
    changes.stop(rt, OPERATOR, ["FGT60FTK19000010"])
    assert hardware("FGT60FTK19000010")["verdict"] == "STOPPED"
    changes.remove_hardware(rt, OPERATOR, ["FGT60FTK19000010"])
    removed = hardware("FGT60FTK19000010")
    assert (removed["verdict"], removed["reason"]) == ("EXPIRED", "REMOVED")


def test_a_vm_serial_validated_without_a_licence_is_unknown(rt: Runtime) -> None:
    record = vm(rt, skip_pending=True)
    answer = licences.validate(rt, None, record.serial, ME, nonce())
    assert verify_answer(answer, published(rt), nonce=nonce())["verdict"] == "UNKNOWN"


def test_malformed_requests_are_refused_before_anything_happens(rt: Runtime) -> None:
    record = vm(rt)
    assert record.token is not None
    for bad in ("short", "has spaces in it here", "x" * 129):
        with pytest.raises(InvalidInput, match="nonce"):
            licences.activate(rt, record.token, ME, "", None, bad, "")
    with pytest.raises(InvalidInput, match="instanceId"):
        licences.activate(rt, record.token, " ", "", None, nonce(), "")
    with pytest.raises(InvalidInput, match="hardwareVcpus"):
        licences.activate(rt, record.token, ME, "", 0, nonce(), "")
    with pytest.raises(InvalidInput, match="serialNumber"):
        licences.validate(rt, None, "", ME, nonce())
    assert stored(rt, record.serial).token_status == "NOTUSED"


def test_a_validation_is_one_read_and_one_audit_insert(rt: Runtime, engine: Engine) -> None:
    record = vm(rt)
    assert record.token is not None
    payload = activate(rt, record.token)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        word = statement.lstrip().split(None, 1)[0].upper()
        if word in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            statements.append(word)

    event.listen(engine, "before_cursor_execute", seen)
    try:  # the activation loaded the signing key: validation needs no key read
        answer = licences.validate(rt, payload["licenceId"], record.serial, ME, nonce())
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements == ["SELECT", "INSERT"]
    assert verify_answer(answer, published(rt), nonce=nonce())["verdict"] == "VALID"
    assert actions(rt)[-1] == "licence.validate"


def test_every_activation_and_validation_is_audited(rt: Runtime) -> None:
    record = vm(rt)
    assert record.token is not None
    payload = activate(rt, record.token)
    activate(rt, record.token)
    check(rt, payload)
    check(rt, payload, OTHER)
    with pytest.raises(InvalidState):
        activate(rt, record.token, OTHER)
    with read(rt) as conn:
        rows = conn.execute(
            select(audit_log).where(audit_log.c.action.like("licence.%")).order_by(audit_log.c.id)
        ).all()
    assert [r.action for r in rows] == [
        "licence.activate",
        "licence.reissue",
        "licence.validate",
        "licence.validate",
        "licence.activate_refused",
    ]
    assert rows[0].actor == f"instance:{ME}"
    assert rows[0].account_id == record.account_id
    assert [r.after["verdict"] for r in rows[2:4]] == ["VALID", "DUPLICATE"]


# --------------------------------------------------------------------------- concurrency


def run_at_once(count: int, job: Any) -> list[Any]:
    """Run ``job(i)`` in ``count`` threads released together; results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = job(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_activations_of_one_token_by_many_instances_leave_one_licence(
    rt: Runtime,
) -> None:
    record = vm(rt)
    token = record.token
    assert token is not None
    keyring(rt).active()  # the first key exists; this test is about the token
    results = run_at_once(
        8, lambda i: licences.activate(rt, token, f"inst-{i}", "7.2.3", 2, nonce(), "10.0.0.1")
    )
    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 1, results
    assert all(isinstance(r, InvalidState) for r in results if not isinstance(r, dict))
    assert licence_count(rt, record.serial) == 1
    assert stored(rt, record.serial).token_status == "USED"


def test_concurrent_retries_by_one_instance_all_get_the_same_licence(rt: Runtime) -> None:
    record = vm(rt)
    token = record.token
    assert token is not None
    results = run_at_once(6, lambda i: licences.activate(rt, token, ME, "", None, nonce(), ""))
    assert all(isinstance(r, dict) for r in results), results
    assert len({r["payload"]["licenceId"] for r in results}) == 1
    assert licence_count(rt, record.serial) == 1


# --------------------------------------------------------------------------- keys


def test_two_processes_starting_at_once_create_one_signing_key(
    settings: Settings, clock: ManualClock
) -> None:
    # Separate runtimes and engines, as two app processes would have.
    runtimes = [build_runtime(settings, clock=clock) for _ in range(4)]
    try:
        kids = run_at_once(4, lambda i: keyring(runtimes[i]).active().kid)
        assert len(set(kids)) == 1, kids
        with runtimes[0].engine.connect() as conn:
            assert len(conn.execute(select(signing_keys)).all()) == 1
    finally:
        for each in runtimes:
            each.engine.dispose()


def test_key_rotation_keeps_old_licences_verifiable_and_signs_new_answers_with_the_new_key(
    rt: Runtime,
) -> None:
    record = vm(rt)
    assert record.token is not None
    document = licences.activate(rt, record.token, ME, "", None, nonce(), "")
    old_kid = document["kid"]
    created = keyring(rt).rotate()
    keys = published(rt)
    verify_licence(document, keys, instance_id=ME)  # still verifies after the rotation
    answer = licences.validate(rt, document["payload"]["licenceId"], record.serial, ME, nonce())
    assert answer["kid"] == created.kid != old_kid
    assert verify_answer(answer, keys, nonce=nonce())["verdict"] == "VALID"
    listed = {k.kid: k.retired_at for k in keyring(rt).public_keys()}
    assert listed[old_kid] is not None
    assert listed[created.kid] is None


def test_a_rotation_by_another_process_is_picked_up_after_the_cache_time(
    settings: Settings, clock: ManualClock, engine: Engine
) -> None:
    cached = build_runtime(settings, clock=clock, engine=engine)
    fresh = build_runtime(
        settings.model_copy(update={"signing_key_cache_seconds": 0}), clock=clock, engine=engine
    )
    first = keyring(cached).active().kid
    assert keyring(fresh).active().kid == first
    rotated = build_runtime(settings, clock=clock, engine=engine)  # e.g. `pointflex keys rotate`
    new = keyring(rotated).rotate().kid
    assert keyring(cached).active().kid == first  # within its cache time: the retired key
    assert keyring(fresh).active().kid == new  # no cache: the new key at once


def test_the_private_key_is_stored_only_encrypted_under_the_master_secret(
    rt: Runtime, settings: Settings, clock: ManualClock, engine: Engine
) -> None:
    key = keyring(rt).active()
    raw = key.private.private_bytes_raw()
    with read(rt) as conn:
        row = conn.execute(select(signing_keys)).one()
    assert raw not in bytes(row.private_key_enc)
    assert raw not in bytes(row.public_key)
    stranger = build_runtime(
        settings.model_copy(update={"secret_key": "another-secret-" + "y" * 32}),
        clock=clock,
        engine=engine,
    )
    with pytest.raises(InvalidTag):  # another installation's master secret cannot open it
        keyring(stranger).active()


def test_a_document_signed_for_one_purpose_does_not_verify_as_another(rt: Runtime) -> None:
    record = vm(rt)
    assert record.token is not None
    document = licences.activate(rt, record.token, ME, "", None, nonce(), "")
    with pytest.raises(VerificationError):
        verify_answer(document, published(rt), nonce=nonce())


def test_a_suspended_account_cannot_start_a_pending_vm_by_redeeming_its_token_P7(
    rt: Runtime,
) -> None:
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.set(datetime(2026, 1, 1, 12, tzinfo=UTC))
    w = world(rt)
    cfg = config(rt, w.prepaid)
    creation.create_vm(rt, OPERATOR, config_id=cfg.id, count=1, skip_pending=True)  # burns points
    (pending,) = creation.create_vm(rt, OPERATOR, config_id=cfg.id, count=1)
    clock.set(datetime(2026, 4, 2, 12, tzinfo=UTC))
    accrue_through(rt, date(2026, 4, 1))  # negative since 2 January: 90 days on 2 April
    with pytest.raises(AccountSuspended):
        activate(rt, str(pending.token))
    after = stored(rt, pending.serial)
    assert (after.status, after.token_status) == (Status.PENDING, "NOTUSED")
    assert licence_count(rt, pending.serial) == 0
