"""Every v2 endpoint's replies against the published OpenAPI documents (tests/api/oas_contract).

For every path of the five documents the real server is driven over HTTP: once with the
document's own request example (values swapped for ids and serials of the test's database,
shape unchanged) and once or more the way Terraform (TF), Ansible (ANS), pyfortiflex (PY) or
the Fortinet CSE Postman collection (CSE) send it (spec §3.4: string ids, numeric-string
counts, no body, ``null`` for "absent"). Every reply must be a success that validates against
the document's 200 schema as the spec md amends it, carry no key the schema does not name
beyond the documented ``ALLOWED_EXTRA_KEYS`` and lack none it names. One business error per
document must come back in the §3.3 error envelope.

The validator itself is checked too: the documents' 200 examples validate under exactly the
documented OAS → JSON Schema translation (two examples have a known defect, pinned below), and
hand-made wrong bodies are caught.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pointflex.api.fortiflex import replies
from pointflex.clock import ManualClock
from pointflex.domain.configs import Config
from pointflex.services.access.accounts import get_account
from pointflex.services.configs import configurations as configs
from pointflex.services.entitlements.transfers import mark_token_used
from pointflex.services.points import programs
from pointflex.services.points.accrual import accrue_through
from tests import reference_documents
from tests.api import oas_contract as oas
from tests.api import wire_record
from tests.api.conftest import Api
from tests.builders import OPERATOR, World, config, world

# Parameters as typed lists (the builders' untyped ones infer as list[object] for mypy).
FGT_ENT_4: list[dict[str, Any]] = [{"id": 1, "value": 4}, {"id": 2, "value": "ENT"}]
FGT_HW: list[dict[str, Any]] = [{"id": 27, "value": "FGT60F"}, {"id": 28, "value": "FGHWFC247"}]
EDR_CLOUD: list[dict[str, Any]] = [{"id": 46, "value": "FEDRPDR"}]  # FortiEDR, product 206
NO_BODY = object()  # TF posts programs/list with no body at all (C4)
SUCCESS = "Request processed successfully."
ALL_PATHS = [path for paths in oas.PATHS.values() for path in paths]
CONFIG_WRITES = {"/configs/create", "/configs/update", "/configs/enable", "/configs/disable"}

# The documents' examples that do not validate under the translation of oas_contract, with
# every violation (JSON path) they have. Reported, not papered over: any other violation, or
# one of these disappearing, fails test_document_examples_validate_except_known_defects.
RESPONSE_EXAMPLE_DEFECTS: dict[str, frozenset[str]] = {
    # Hardware and cloud entitlements have no token: the examples send null where the schema
    # says string. Spec Q4 settles on "" (what pointflex sends), which satisfies the schema.
    "/entitlements/hardware/create": frozenset(
        f"$.entitlements[{i}].{key}" for i in (0, 1) for key in ("token", "tokenStatus")
    ),
    "/entitlements/cloud/create": frozenset(
        {"$.entitlements[0].token", "$.entitlements[0].tokenStatus"}
    ),
}
# The wire record sees the same two defects, and no other, in the documents' 200 examples.
RECORD_EXAMPLE_DEFECTS = RESPONSE_EXAMPLE_DEFECTS
REQUEST_EXAMPLE_DEFECTS: dict[str, frozenset[str]] = {
    # "example": [] is a PHP empty array where the schema says object; spec §3.1 makes a JSON
    # [] body mean {} (SHOULD), and the server is sent exactly [] below.
    "/programs/list": frozenset({"$"}),
    "/tools/metadata": frozenset({"$"}),
    # targetConfigId is null in the example, integer in the schema; spec §4.18 says "int or
    # null, optional" and Q10 gives null its meaning.
    "/entitlements/transfer": frozenset({"$.targetConfigId"}),
}


# --------------------------------------------------------------------------- the world


@dataclass
class Contract:
    """One organisation (root + member account), its programs, configurations and a token."""

    api: Api
    clock: ManualClock
    w: World
    org: int
    vm: Config  # FortiGate-VM bundle, 2 vCPUs ENT, root account, prepaid program
    vm4: Config  # the same product with 4 vCPUs: a target for entitlements/update
    hw: Config  # FortiGate 60F hardware
    cloud: Config  # FortiEDR cloud service
    token: str = field(repr=False)

    def call(self, endpoint: str, body: Any = NO_BODY) -> httpx.Response:
        return self.api.call(endpoint, None if body is NO_BODY else body, self.token)

    def ok(self, endpoint: str, body: Any) -> dict[str, Any]:
        reply = self.call(endpoint, body)
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()
        return data

    def vms(self, count: int = 1, **extra: Any) -> list[str]:
        body = {"configId": self.vm.id, "count": count, **extra}
        return [e["serialNumber"] for e in self.ok("entitlements/vm/create", body)["entitlements"]]

    def vm_tokens(self, count: int = 1, **extra: Any) -> list[str]:
        body = {"configId": self.vm.id, "count": count, **extra}
        return [e["token"] for e in self.ok("entitlements/vm/create", body)["entitlements"]]

    def hardware(self, *serials: str, stopped: bool = False) -> list[str]:
        body = {"configId": self.hw.id, "serialNumbers": list(serials)}
        self.ok("entitlements/hardware/create", body)
        for serial in serials if stopped else ():
            self.ok("entitlements/stop", {"serialNumber": serial})
        return list(serials)

    def stopped_vm(self) -> str:
        (serial,) = self.vms(1, skipPending=True)
        self.ok("entitlements/stop", {"serialNumber": serial})
        return serial

    def accrue(self, through: date) -> None:
        """Let ``through`` end, accrue the prepaid program up to it, sign in again."""
        self.clock.set(datetime.combine(through + timedelta(days=1), time(10), tzinfo=UTC))
        accrue_through(self.api.rt, through, program_serial=self.w.prepaid)
        self.token = self.api.user(organization_id=self.org)


@pytest.fixture
def c(api: Api, clock: ManualClock) -> Contract:
    w = world(api.rt)
    programs.add_pack(api.rt, OPERATOR, w.prepaid, 50_000)
    with api.rt.engine.connect() as conn:
        org = get_account(conn, w.root).organization_id
    vm = config(api.rt, w.prepaid)
    vm4 = config(api.rt, w.prepaid, FGT_ENT_4, name="fgt-4")
    hw = config(api.rt, w.prepaid, FGT_HW, product=101, name="fgt-hw")
    cloud = config(api.rt, w.prepaid, EDR_CLOUD, product=206, name="edr")
    config(api.rt, w.prepaid, name="branch fgt", account_id=w.member)
    return Contract(api, clock, w, org, vm, vm4, hw, cloud, api.user(organization_id=org))


# --------------------------------------------------------------------------- checks


def check_success(endpoint: str, reply: httpx.Response) -> dict[str, Any]:
    """A 200 success whose whole body is valid against pointflex's own wire record (every key
    required, no other allowed), with data that is not empty (it would validate trivially)."""
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    assert (body.get("status"), body.get("message"), body.get("error")) == (0, SUCCESS, None)
    path = oas.normal_path(endpoint)
    wire_record.assert_matches(path, body)
    data = [value for key, value in body.items() if key not in ("status", "message", "error")]
    if path != "/entitlements/hardware/remove":  # the envelope only (§4.10)
        assert data, f"empty data would validate trivially: {body}"
        assert all(data), f"empty data would validate trivially: {body}"
    return body


def check_reference(endpoint: str, body: dict[str, Any]) -> None:
    """The same body against the document's 200 schema (as the spec md amends it), with
    exactly the allowed extra keys and no documented key missing."""
    doc = oas.load_for(endpoint)
    oas.assert_matches(doc, endpoint, body)
    extra, missing = oas.key_differences(doc, endpoint, body)
    path = oas.normal_path(endpoint)
    assert extra == oas.ALLOWED_EXTRA_KEYS.get(path, frozenset()), (extra, body)
    assert missing == set(), (missing, body)
    if path in oas.TWIN_KEYS:
        twin, original = oas.TWIN_KEYS[path]
        assert body[twin] == body[original]


def check_failure(endpoint: str, reply: httpx.Response, http_status: int) -> dict[str, Any]:
    """The §3.3 error envelope: status -1, an ``error`` object with ``errorCode``, no data."""
    assert reply.status_code == http_status, reply.text
    body: dict[str, Any] = reply.json()
    assert list(body) == ["status", "message", "error"], body
    assert body["status"] == -1, body
    assert isinstance(body["message"], str), body
    error = body["error"]
    assert isinstance(error, dict), body
    assert list(error) == ["errorCode", "message"], body
    assert type(error["errorCode"]) is int, body
    assert isinstance(error["message"], str), body
    return body


def shape(value: Any) -> Any:
    """A JSON value's shape: its type, recursively (the values themselves do not matter)."""
    if isinstance(value, dict):
        return ("object", tuple(sorted((k, shape(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("array", tuple(sorted({repr(shape(v)) for v in value})))
    return type(value).__name__


def adapt(example: Any, **values: Any) -> Any:
    """The document's example with some values swapped, keys and JSON types unchanged."""
    body = copy.deepcopy(example)
    for key, value in values.items():
        assert key in body, f"the example has no {key}"
        assert shape(value) == shape(body[key]), (key, body[key], value)
        body[key] = value
    assert shape(body) == shape(example)
    return body


def with_service_pack(parameters: list[dict[str, Any]], pack: str) -> list[dict[str, Any]]:
    """The example's parameters with a current service pack: the examples use "UTM" (retired;
    the catalogue refuses it) and "360" (not a FortiGate-VM pack); spec §8 allows FC, UTP, ENT,
    ATP for parameter 2."""
    return [{**p, "value": pack} if p["id"] == 2 else p for p in parameters]


# --------------------------------------------------------------------------- the examples

FOLDER = "My Assets/Department A/FortiFlex Group 1"  # the groups examples' folder
HW_SERIALS = ["FGT60FTK19000010", "FGT60FTK19000013"]  # the hardware examples' serials
IN_PROGRAM = "2026-10-11 00:00:00"  # the examples' "2021-10-11 00:00:00", inside the program


def _programs_list(c: Contract, ex: Any) -> Any:
    return ex  # [] as the document shows it


def _programs_points(c: Contract, ex: Any) -> Any:
    return adapt(ex, programSerialNumber=c.w.prepaid)


def _configs_list(c: Contract, ex: Any) -> Any:
    return adapt(ex, programSerialNumber=c.w.prepaid, accountId=c.w.root)


def _configs_create(c: Contract, ex: Any) -> Any:
    return adapt(
        ex,
        programSerialNumber=c.w.prepaid,
        accountId=c.w.root,
        parameters=with_service_pack(ex["parameters"], "ENT"),
    )


def _configs_update(c: Contract, ex: Any) -> Any:
    # 2 → 8 vCPUs, an increase; the example's pack "360" becomes the config's own ENT.
    return adapt(ex, id=c.vm.id, parameters=with_service_pack(ex["parameters"], "ENT"))


def _configs_disable(c: Contract, ex: Any) -> Any:
    return adapt(ex, id=c.vm.id)


def _configs_enable(c: Contract, ex: Any) -> Any:
    configs.set_config_status(c.api.rt, OPERATOR, c.vm.id, configs.DISABLED)
    return adapt(ex, id=c.vm.id)


def _entitlements_list(c: Contract, ex: Any) -> Any:
    # An ACTIVE entitlement with an unused token and description "test" matches every filter.
    (serial,) = c.vms(1, skipPending=True, description=ex["description"])
    c.vms(2)
    return adapt(
        ex,
        configId=c.vm.id,
        programSerialNumber=c.w.prepaid,
        accountId=c.w.root,
        serialNumber=serial,
    )


def _vm_create(c: Contract, ex: Any) -> Any:
    return adapt(ex, configId=c.vm.id, endDate=IN_PROGRAM)


def _vm_token(c: Contract, ex: Any) -> Any:
    (serial,) = c.vms(1, skipPending=True)
    return adapt(ex, serialNumber=serial)


def _hardware_create(c: Contract, ex: Any) -> Any:
    assert ex["serialNumbers"] == HW_SERIALS
    return adapt(ex, configId=c.hw.id, endDate=IN_PROGRAM)  # the example's serials as they are


def _hardware_remove(c: Contract, ex: Any) -> Any:
    c.hardware(*ex["serialNumbers"], stopped=True)
    return ex  # unchanged: the same two serials, now STOPPED


def _cloud_create(c: Contract, ex: Any) -> Any:
    return adapt(ex, configId=c.cloud.id, endDate=IN_PROGRAM)


def _update(c: Contract, ex: Any) -> Any:
    (serial,) = c.vms(1, skipPending=True)
    return adapt(ex, serialNumber=serial, configId=c.vm4.id, endDate="2026-10-25")


def _stop(c: Contract, ex: Any) -> Any:
    (serial,) = c.vms(1, skipPending=True)
    return adapt(ex, serialNumber=serial)


def _reactivate(c: Contract, ex: Any) -> Any:
    return adapt(ex, serialNumber=c.stopped_vm())


def _points(c: Contract, ex: Any) -> Any:
    c.vms(2, skipPending=True)
    c.accrue(date(2026, 3, 4))
    return adapt(
        ex,
        configId=c.vm.id,
        programSerialNumber=c.w.prepaid,
        accountId=c.w.root,
        startDate="2026-03-01",
        endDate="2026-03-25",
    )


def _transfer(c: Contract, ex: Any) -> Any:
    serials = c.vms(2, skipPending=True)
    return adapt(
        ex,
        sourceAccountId=c.w.root,
        sourceConfigId=c.vm.id,
        targetAccountId=c.w.member,
        serialNumbers=serials,
    )  # targetConfigId stays null (Q10)


def _groups_list(c: Contract, ex: Any) -> Any:
    tokens = c.vm_tokens(3, folderPath=FOLDER)
    c.vms(2, folderPath="My Assets/Department A/FortiFlex Group 2")
    mark_token_used(c.api.rt, tokens[0])
    return adapt(ex, accountId=c.w.root)


def _nexttoken(c: Contract, ex: Any) -> Any:
    c.vms(2, folderPath=ex["folderPath"])
    return adapt(ex, accountId=c.w.root, configId=c.vm.id)


def _calc(c: Contract, ex: Any) -> Any:
    parameters = with_service_pack(ex["parameters"], "ENT")
    return adapt(ex, programSerialNumber=c.w.prepaid, parameters=parameters)


def _metadata(c: Contract, ex: Any) -> Any:
    return ex  # [] as the document shows it


EXAMPLES: dict[str, Callable[[Contract, Any], Any]] = {
    "/programs/list": _programs_list,
    "/programs/points": _programs_points,
    "/configs/list": _configs_list,
    "/configs/create": _configs_create,
    "/configs/update": _configs_update,
    "/configs/disable": _configs_disable,
    "/configs/enable": _configs_enable,
    "/entitlements/list": _entitlements_list,
    "/entitlements/vm/create": _vm_create,
    "/entitlements/vm/token": _vm_token,
    "/entitlements/hardware/create": _hardware_create,
    "/entitlements/hardware/remove": _hardware_remove,
    "/entitlements/cloud/create": _cloud_create,
    "/entitlements/update": _update,
    "/entitlements/stop": _stop,
    "/entitlements/reactivate": _reactivate,
    "/entitlements/points": _points,
    "/entitlements/transfer": _transfer,
    "/groups/list": _groups_list,
    "/groups/nexttoken": _nexttoken,
    "/tools/calc": _calc,
    "/tools/metadata": _metadata,
}


# --------------------------------------------------------------------------- client requests


@dataclass(frozen=True)
class Request:
    """A request to ``endpoint`` built the way ``client`` builds it (after any setup)."""

    endpoint: str
    client: str
    build: Callable[[Contract], Any]

    @property
    def id(self) -> str:
        return f"{self.endpoint.strip('/')}-{self.client}"


TF_FGT_VM = [  # TF sends every parameter: numbers as numbers, empty lists as "NONE" (C7, C8)
    {"id": 1, "value": 4},
    {"id": 2, "value": "ENT"},
    {"id": 10, "value": 0},
    {"id": 43, "value": "NONE"},
    {"id": 44, "value": "NONE"},
    {"id": 45, "value": "NONE"},
]
ANS_FGT_VM = [  # ANS: what the user typed, a list parameter as repeated ids (C8)
    {"id": "1", "value": "2"},
    {"id": 2, "value": "UTP"},
    {"id": 43, "value": "FGTAVDB"},
    {"id": 43, "value": "FGTFAIS"},
]


def _tf_update(c: Contract) -> Any:
    (serial,) = c.vms(1, description="claimed")
    # C17: "" clears the description; the configuration id comes back as a string.
    return {"serialNumber": serial, "configId": str(c.vm.id), "description": "", "endDate": None}


def _ans_update(c: Contract) -> Any:
    (serial,) = c.vms(1, skipPending=True)
    return {
        "serialNumber": serial,
        "configId": c.vm.id,
        "description": "ans",
        "endDate": "2026-12-01T00:00:00",
    }


def _tf_nexttoken(c: Contract) -> Any:
    c.vms(2, folderPath="My Assets/tf")
    return {"folderPath": "My Assets/tf", "configId": 0, "status": ["ACTIVE", "PENDING"]}


def _ans_nexttoken(c: Contract) -> Any:
    c.vms(1)
    return {"accountId": str(c.w.root), "configId": c.vm.id, "status": "PENDING"}  # C21


def _everything(c: Contract) -> None:
    """VM (PENDING, ACTIVE, used token), hardware and cloud entitlements in the root account."""
    c.vms(1)
    tokens = c.vm_tokens(1, skipPending=True)
    mark_token_used(c.api.rt, tokens[0])
    c.hardware("FGT60FTK21000001")
    c.ok("entitlements/cloud/create", {"configId": c.cloud.id})


def _py_list(c: Contract) -> Any:
    _everything(c)
    return {"accountId": c.w.root, "programSerialNumber": c.w.prepaid}


def _tf_list(c: Contract) -> Any:
    (serial,) = c.vms(1)
    c.vms(1)
    return {"configId": str(c.vm.id), "serialNumber": serial}  # C20


def _ans_list(c: Contract) -> Any:
    _everything(c)
    return {"configId": c.vm.id, "status": "PENDING", "tokenStatus": "NOTUSED"}


def _points_by(scope: Callable[[Contract], dict[str, Any]]) -> Callable[[Contract], Any]:
    def build(c: Contract) -> Any:
        c.vms(1, skipPending=True)
        c.hardware("FGT60FTK21000002")
        c.accrue(date(2026, 3, 4))
        return {"startDate": "2026-03-01", "endDate": "2026-03-04", **scope(c)}

    return build


def _py_transfer(c: Contract) -> Any:
    (serial,) = c.vms(1)
    return {"serialNumbers": [serial], "accountId": c.w.member, "programSerialNumber": c.w.prepaid}


def _cse_transfer(c: Contract) -> Any:
    serials = c.vms(2, skipPending=True)
    return {
        "sourceAccountId": str(c.w.root),
        "sourceConfigId": str(c.vm.id),
        "targetAccountId": str(c.w.member),
        "serialNumbers": serials,
    }


def _groups(c: Contract) -> None:
    tokens = c.vm_tokens(2, folderPath="My Assets/ans")
    mark_token_used(c.api.rt, tokens[0])
    c.hardware("FGT60FTK21000003")


def _disabled(c: Contract) -> Config:
    configs.set_config_status(c.api.rt, OPERATOR, c.vm.id, configs.DISABLED)
    return c.vm


def _then(setup: Callable[[Contract], Any], body: Callable[[Contract, Any], Any]) -> Any:
    return lambda c: body(c, setup(c))


REQUESTS: list[Request] = [
    Request("/programs/list", "terraform-no-body", lambda c: NO_BODY),
    Request("/programs/list", "python-client-empty-object", lambda c: {}),
    Request("/programs/points", "python-client", lambda c: {"programSerialNumber": c.w.prepaid}),
    Request(
        "/configs/list",
        "python-client-all-accounts",
        lambda c: {"programSerialNumber": c.w.prepaid},
    ),
    Request(
        "/configs/list",
        "ansible-string-account-id",
        lambda c: {"programSerialNumber": c.w.prepaid, "accountId": str(c.w.member)},
    ),
    Request(
        "/configs/create",
        "terraform",
        lambda c: {
            "programSerialNumber": c.w.prepaid,
            "name": "tf-fgt",
            "productTypeId": 1,
            "parameters": TF_FGT_VM,
            "accountId": c.w.root,
        },
    ),
    Request(
        "/configs/create",
        "ansible-list-parameter-string-ids",
        lambda c: {
            "programSerialNumber": c.w.prepaid,
            "name": "ans-fgt",
            "productTypeId": "1",
            "parameters": ANS_FGT_VM,
            "accountId": str(c.w.member),
        },
    ),
    Request(
        "/configs/create",
        "terraform-hardware",
        lambda c: {
            "programSerialNumber": c.w.prepaid,
            "name": "tf-hw",
            "productTypeId": 101,
            "parameters": [*FGT_HW, {"id": 29, "value": "NONE"}],
        },
    ),
    Request(
        "/configs/update",
        "terraform-string-id",
        lambda c: {"id": str(c.vm.id), "name": "tf-renamed", "parameters": TF_FGT_VM},
    ),
    Request(
        "/configs/update",
        "ansible-null-name",
        lambda c: {"id": c.vm.id, "name": None, "parameters": ANS_FGT_VM},
    ),
    Request("/configs/disable", "terraform-destroy-string-id", lambda c: {"id": str(c.vm.id)}),
    Request(
        "/configs/disable", "ansible-already-disabled", _then(_disabled, lambda c, v: {"id": v.id})
    ),
    Request("/configs/enable", "ansible", _then(_disabled, lambda c, v: {"id": v.id})),
    Request("/configs/enable", "cse-string-id-already-active", lambda c: {"id": str(c.vm.id)}),
    Request("/entitlements/list", "terraform-read-one", _tf_list),
    Request("/entitlements/list", "python-client-account-scope", _py_list),
    Request("/entitlements/list", "ansible-filters", _ans_list),
    Request(
        "/entitlements/vm/create",
        "python-client-six-fields",
        lambda c: {
            "configId": c.vm.id,
            "count": 2,
            "description": "py",
            "endDate": None,
            "folderPath": "My Assets",
            "skipPending": True,
        },
    ),
    Request(
        "/entitlements/vm/create",
        "cse-string-count",
        lambda c: {
            "configId": str(c.vm.id),
            "count": "2",
            "description": "cse",
            "endDate": "2026-12-31 00:00:00",
        },
    ),
    Request(
        "/entitlements/vm/create",
        "terraform-iso-end-date",
        lambda c: {
            "configId": c.vm.id,
            "count": 1,
            "description": "tf",
            "endDate": "2026-12-31T00:00:00",
            "folderPath": "My Assets/tf",
            "skipPending": False,
        },
    ),
    Request(
        "/entitlements/vm/token",
        "terraform-after-stop",
        lambda c: {"serialNumber": c.stopped_vm()},
    ),
    Request("/entitlements/vm/token", "python-client", lambda c: {"serialNumber": c.vms(1)[0]}),
    Request(
        "/entitlements/hardware/create",
        "terraform-one-serial",
        lambda c: {"configId": c.hw.id, "serialNumbers": ["FGT60FTK21000010"]},
    ),
    Request(
        "/entitlements/hardware/create",
        "python-client-null-end-date",
        lambda c: {
            "configId": str(c.hw.id),
            "serialNumbers": ["FGT60FTK21000011", "FGT60FTK21000012"],
            "endDate": None,
        },
    ),
    Request(
        "/entitlements/hardware/remove",
        "one-stopped-serial",
        lambda c: {"serialNumbers": c.hardware("FGT60FTK21000013", stopped=True)},
    ),
    Request(
        "/entitlements/cloud/create",
        "terraform",
        lambda c: {
            "configId": c.cloud.id,
            "endDate": "",
            "folderPath": "My Assets",
            "description": "edr",
            "count": 1,
        },
    ),
    Request(
        "/entitlements/cloud/create",
        "cse-string-id",
        lambda c: {"configId": str(c.cloud.id), "endDate": None},
    ),
    Request("/entitlements/update", "terraform-release", _tf_update),
    Request("/entitlements/update", "ansible", _ans_update),
    Request(
        "/entitlements/stop",
        "terraform-pending",
        lambda c: {"serialNumber": c.vms(1)[0]},  # Q21: stop from PENDING is accepted
    ),
    Request(
        "/entitlements/stop",
        "ansible-hardware",
        lambda c: {"serialNumber": c.hardware("FGT60FTK21000014")[0]},
    ),
    Request(  # TF's retrieve_vm_group reactivates PENDING entitlements (§6.2)
        "/entitlements/reactivate",
        "terraform-pending-vm",
        lambda c: {"serialNumber": c.vms(1)[0]},
    ),
    Request(
        "/entitlements/reactivate",
        "terraform-stopped-vm",
        lambda c: {"serialNumber": c.stopped_vm()},
    ),
    Request(
        "/entitlements/reactivate",
        "ansible-stopped-hardware",
        lambda c: {"serialNumber": c.hardware("FGT60FTK21000015", stopped=True)[0]},
    ),
    Request("/entitlements/points", "terraform", _points_by(lambda c: {"configId": c.vm.id})),
    Request(
        "/entitlements/points",
        "python-client-program-only",
        _points_by(lambda c: {"programSerialNumber": c.w.prepaid}),
    ),
    Request(
        "/entitlements/points",
        "cse-string-ids",
        _points_by(lambda c: {"accountId": str(c.w.root), "programSerialNumber": c.w.prepaid}),
    ),
    Request("/entitlements/transfer", "python-client-shape", _py_transfer),
    Request("/entitlements/transfer", "cse-vendor-shape-string-ids", _cse_transfer),
    Request(
        "/groups/list",
        "ansible-string-account-id",
        _then(_groups, lambda c, _: {"accountId": str(c.w.root)}),
    ),
    Request(
        "/groups/list",
        "python-client",
        _then(_groups, lambda c, _: {"accountId": c.w.root}),
    ),
    Request("/groups/nexttoken", "terraform-zero-config-id", _tf_nexttoken),
    Request("/groups/nexttoken", "ansible-single-status", _ans_nexttoken),
    Request(
        "/tools/calc",
        "cse-numeric-strings",
        lambda c: {
            "programSerialNumber": c.w.prepaid,
            "count": "3",
            "productTypeId": "1",
            "parameters": [{"id": "1", "value": 2}, {"id": 2, "value": "ENT"}],
        },
    ),
    Request(
        "/tools/calc",
        "ansible-cloud-product",
        lambda c: {
            "programSerialNumber": c.w.prepaid,
            "productTypeId": 206,
            "parameters": EDR_CLOUD,
            "count": 1,
        },
    ),
    Request("/tools/metadata", "terraform-no-body", lambda c: NO_BODY),
    Request("/tools/metadata", "python-client-empty-object", lambda c: {}),
]


# --------------------------------------------------------------------------- tests


REFERENCE = pytest.mark.fortiflex_reference


@REFERENCE
def test_the_documents_list_exactly_the_paths_these_tests_cover() -> None:
    for name, paths in oas.PATHS.items():
        documented = {path for path, item in oas.load(name).contents["paths"].items()}
        assert documented == set(paths), name
        for path in paths:
            assert set(oas.load(name).contents["paths"][path]) == {"post"}, path


def test_these_tests_and_the_wire_record_cover_every_v2_path() -> None:
    assert set(EXAMPLES) == set(ALL_PATHS)
    assert {oas.normal_path(r.endpoint) for r in REQUESTS} == set(ALL_PATHS)
    assert set(replies.REPLIES) == set(ALL_PATHS)


@REFERENCE
@pytest.mark.parametrize("path", ALL_PATHS)
def test_document_examples_validate_except_known_defects(path: str) -> None:
    """The 200 example under the translation alone (T1–T5); the request example under T1–T2.
    Failures are exactly the pinned, reported defects: no broader leniency hides them."""
    doc = oas.load_for(path)
    response = oas.errors(
        doc, oas.response_schema(doc, path, contract=False), oas.response_example(doc, path)
    )
    assert {where for where, _ in response} == RESPONSE_EXAMPLE_DEFECTS.get(path, set()), response
    request = oas.errors(doc, oas.request_schema(doc, path), oas.request_example(doc, path))
    assert {where for where, _ in request} == REQUEST_EXAMPLE_DEFECTS.get(path, set()), request


def _as_pointflex_answers(path: str, example: dict[str, Any]) -> dict[str, Any]:
    """A document's 200 example as the spec md has pointflex answer it: Q1's one object for
    the config writes, and the twin keys of ALLOWED_EXTRA_KEYS."""
    if oas.normal_path(path) in CONFIG_WRITES:
        example = {**example, "configs": example["configs"][0]}
    if path in oas.TWIN_KEYS:
        twin, original = oas.TWIN_KEYS[path]
        example = {**example, twin: copy.deepcopy(example[original])}
    return example


@REFERENCE
@pytest.mark.parametrize("path", ALL_PATHS)
def test_document_example_keys_are_exactly_the_schema_keys(path: str) -> None:
    """The strictness check agrees with the documents: their examples name every key of the
    schema and no other (so ALLOWED_EXTRA_KEYS is all pointflex adds)."""
    doc = oas.load_for(path)
    example = oas.response_example(doc, path)
    if oas.normal_path(path) in CONFIG_WRITES:
        example = {**example, "configs": example["configs"][0]}  # Q1: the object of the list
    assert oas.key_differences(doc, path, example) == (set(), set())


@REFERENCE
@pytest.mark.parametrize("path", ALL_PATHS)
def test_wire_record_has_the_reference_shape_plus_the_documented_twins(path: str) -> None:
    """pointflex's committed wire record (what every clone checks replies against) names the
    same keys with the same JSON types as the document's 200 schema as the spec md amends it;
    it adds exactly the ALLOWED_EXTRA_KEYS twins, with their originals' shapes."""
    contents, root = oas.contract_reply_root(oas.load_for(path), path)

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = contents["definitions"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    reference, _ = wire_record.collect_shape(root, resolve)
    own, required = wire_record.own_shape(path)
    envelope = {"$.status", "$.message", "$.error"}
    assert envelope <= required
    assert set(own) - set(reference) - envelope == _twin_subtree(path, own)
    for where, kinds in reference.items():
        if where not in envelope:
            assert own.get(where) == kinds, (where, kinds, own.get(where))
    keys = {where for where in own if where != "$" and not where.endswith("[*]")}
    assert required == keys, "every key of the record is required"
    if path in oas.TWIN_KEYS:
        twin, original = oas.TWIN_KEYS[path]
        for where in _twin_subtree(path, own):
            assert own[where] == own[where.replace(f"$.{twin}", f"$.{original}", 1)]


def _twin_subtree(path: str, shape: dict[str, frozenset[str]]) -> set[str]:
    if path not in oas.TWIN_KEYS:
        return set()
    twin, _ = oas.TWIN_KEYS[path]
    return {
        where
        for where in shape
        if where == f"$.{twin}" or where.startswith(f"$.{twin}.") or where.startswith(f"$.{twin}[")
    }


@REFERENCE
@pytest.mark.parametrize("path", ALL_PATHS)
def test_document_examples_validate_against_the_wire_record_except_known_defects(
    path: str,
) -> None:
    example = _as_pointflex_answers(path, oas.response_example(oas.load_for(path), path))
    found = {where for where, _ in wire_record.violations(path, example)}
    assert found == RECORD_EXAMPLE_DEFECTS.get(path, set())


def test_wire_record_file_is_generated_from_the_reply_models() -> None:
    """``python -m pointflex.api.fortiflex.replies --write`` after changing a model."""
    assert replies.committed() == replies.schemas()
    assert replies.SCHEMAS_FILE.read_text(encoding="utf-8") == replies.rendered()


@REFERENCE
@pytest.mark.parametrize("path", ALL_PATHS)
def test_document_request_example_is_accepted_and_answered_per_schema(
    c: Contract, path: str
) -> None:
    doc = oas.load_for(path)
    body = EXAMPLES[path](c, oas.request_example(doc, path))
    check_reference(path, check_success(path, c.call(path, body)))


@pytest.mark.parametrize("request_", REQUESTS, ids=[r.id for r in REQUESTS])
def test_client_request_is_answered_per_wire_record(c: Contract, request_: Request) -> None:
    body = request_.build(c)
    check_success(request_.endpoint, c.call(request_.endpoint, body))


@REFERENCE
@pytest.mark.parametrize("request_", REQUESTS, ids=[r.id for r in REQUESTS])
def test_client_request_is_answered_per_reference_document(c: Contract, request_: Request) -> None:
    body = request_.build(c)
    check_reference(
        request_.endpoint, check_success(request_.endpoint, c.call(request_.endpoint, body))
    )


@dataclass(frozen=True)
class Failure:
    endpoint: str
    what: str
    build: Callable[[Contract], Any]
    http_status: int


FAILURES = [
    Failure(
        "/programs/points",
        "unknown-program",
        lambda c: {"programSerialNumber": "ELAVMR0000000101"},
        404,
    ),
    Failure(
        "/programs/points",
        "postpaid-program-Q16",
        lambda c: {"programSerialNumber": c.w.postpaid},
        409,
    ),
    Failure("/configs/update", "unknown-config", lambda c: {"id": 999_999, "name": "x"}, 404),
    Failure(
        "/configs/create",
        "parameter-out-of-range-C15",
        lambda c: {
            "programSerialNumber": c.w.prepaid,
            "name": "big",
            "productTypeId": 1,
            "parameters": [{"id": 1, "value": "200"}, {"id": 2, "value": "ENT"}],
        },
        400,
    ),
    Failure(
        "/entitlements/reactivate",
        "already-active-C16",
        lambda c: {"serialNumber": c.vms(1, skipPending=True)[0]},
        409,
    ),
    Failure("/entitlements/list", "unknown-config", lambda c: {"configId": str(999_999)}, 404),
    Failure(
        "/groups/nexttoken",
        "no-unused-token-Q20",
        lambda c: {"configId": c.vm.id, "folderPath": "My Assets/empty"},
        404,
    ),
    Failure("/groups/list", "no-account-id", lambda c: {}, 400),
    Failure(
        "/tools/calc",
        "unknown-program",
        lambda c: {
            "programSerialNumber": "ELAVMR0000000101",
            "productTypeId": 1,
            "parameters": [{"id": 1, "value": "2"}, {"id": 2, "value": "ENT"}],
        },
        404,
    ),
]


@pytest.mark.parametrize(
    "failure", FAILURES, ids=[f"{f.endpoint.strip('/')}-{f.what}" for f in FAILURES]
)
def test_business_error_comes_back_in_the_error_envelope(c: Contract, failure: Failure) -> None:
    check_failure(failure.endpoint, c.call(failure.endpoint, failure.build(c)), failure.http_status)


@REFERENCE
@pytest.mark.parametrize(
    "failure", FAILURES, ids=[f"{f.endpoint.strip('/')}-{f.what}" for f in FAILURES]
)
def test_business_error_matches_the_reference_envelope(c: Contract, failure: Failure) -> None:
    reply = c.call(failure.endpoint, failure.build(c))
    body = check_failure(failure.endpoint, reply, failure.http_status)
    oas.assert_error_envelope(oas.load_for(failure.endpoint), body)


def test_every_document_has_a_business_error_case() -> None:
    assert {oas.document_of(f.endpoint) for f in FAILURES} == set(oas.PATHS)


# --------------------------------------------------------------------------- the validator


ITEM = {
    "serialNumber": "FGVMMLTM26000001",
    "description": "",
    "configId": 22,
    "accountId": 100001,
    "startDate": "2026-03-02 10:00:00",
    "endDate": "2027-01-01 00:00:00",
    "status": "PENDING",
    "token": "07981E8F70FFB1281179",
    "tokenStatus": "NOTUSED",
}
LISTED = {"status": 0, "message": SUCCESS, "error": None, "entitlements": [ITEM]}


def _violations(path: str, body: Any) -> set[str]:
    doc = oas.load_for(path)
    return {where for where, _ in oas.errors(doc, oas.response_schema(doc, path), body)}


@REFERENCE
def test_a_hand_made_valid_entitlement_reply_passes() -> None:
    assert _violations("entitlements/list", LISTED) == set()
    assert oas.key_differences(oas.load("entitlements"), "entitlements/list", LISTED) == (
        set(),
        set(),
    )


@REFERENCE
@pytest.mark.parametrize(
    ("change", "caught_at"),
    [
        ({"configId": "22"}, "$.entitlements[0].configId"),  # a string id (the C6 mistake)
        ({"configId": 22.0}, "$.entitlements[0].configId"),  # Draft 4 integers
        ({"accountId": True}, "$.entitlements[0].accountId"),
        ({"token": None}, "$.entitlements[0].token"),  # Q4: "" not null
        ({"startDate": "2026-03-02T10:00:00"}, "$.entitlements[0].startDate"),  # §7, T3
        ({"endDate": "2027-01-01"}, "$.entitlements[0].endDate"),
    ],
)
def test_a_mistyped_entitlement_field_is_caught(change: dict[str, Any], caught_at: str) -> None:
    body = {**LISTED, "entitlements": [{**ITEM, **change}]}
    assert _violations("entitlements/list", body) == {caught_at}


@REFERENCE
@pytest.mark.parametrize(
    ("change", "caught_at"),
    [
        ({"error": "oops"}, "$.error"),  # T4: null on success, not a string
        ({"error": {"errorCode": 1, "message": "x"}}, "$.error"),
        ({"status": 1}, "$.status"),  # T5
        ({"status": "0"}, "$.status"),
        ({"entitlements": {"0": ITEM}}, "$.entitlements"),
    ],
)
def test_a_wrong_envelope_is_caught(change: dict[str, Any], caught_at: str) -> None:
    assert caught_at in _violations("entitlements/list", {**LISTED, **change})


@REFERENCE
def test_a_missing_envelope_key_is_caught() -> None:
    body = {k: v for k, v in LISTED.items() if k != "status"}
    assert _violations("entitlements/list", body) == {"$"}


@REFERENCE
def test_a_stray_or_missing_key_is_reported() -> None:
    doc = oas.load("entitlements")
    item = {k: v for k, v in ITEM.items() if k != "tokenStatus"} | {"folderPath": "My Assets"}
    body = {**LISTED, "vms": [], "entitlements": [item]}
    assert oas.key_differences(doc, "entitlements/list", body) == (
        {"$.vms", "$.entitlements[*].folderPath"},
        {"$.entitlements[*].tokenStatus"},
    )


@REFERENCE
def test_config_writes_answer_one_object_per_spec_not_the_documents_list_Q1() -> None:
    doc = oas.load("configurations")
    listed = copy.deepcopy(oas.response_example(doc, "configs/create"))
    one = {**listed, "configs": listed["configs"][0]}
    assert _violations("configs/create", one) == set()
    assert _violations("configs/create", listed) == {"$.configs"}
    assert _violations("configs/list", one) == {"$.configs"}  # the list stays a list


@REFERENCE
def test_error_envelope_is_exactly_the_spec_shape() -> None:
    doc = oas.load("configurations")
    good: dict[str, Any] = {
        "status": -1,
        "message": "no",
        "error": {"errorCode": 1201, "message": "no"},
    }

    def caught(body: Any) -> set[str]:
        return {where for where, _ in oas.errors(doc, oas.error_schema(doc), body)}

    assert caught(good) == set()
    assert caught({**good, "error": None}) == {"$.error"}
    assert caught({**good, "error": "no"}) == {"$.error"}
    assert caught({**good, "error": {"errorCode": "1201", "message": "no"}}) == {
        "$.error.errorCode"
    }
    assert caught({**good, "error": {"errorCode": 1201}}) == {"$.error"}
    assert caught({**good, "error": {**good["error"], "detail": 1}}) == {"$.error"}
    assert caught({**good, "configs": []}) == {"$"}
    assert caught({**good, "status": 0}) != set()


def test_missing_reference_folder_fails_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(reference_documents.DIR_VARIABLE, str(tmp_path / "no-such-folder"))
    with pytest.raises(pytest.fail.Exception, match="OpenAPI documents are missing"):
        oas.require_reference_folder()


def test_the_documents_are_looked_for_beside_the_repository_unless_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(reference_documents.DIR_VARIABLE, raising=False)
    where = reference_documents.folder().relative_to(oas.REPO_ROOT.parent)
    assert where.parts == ("shared", "reference", "fortiflex-api-v2")
    assert (oas.REPO_ROOT / "pyproject.toml").is_file()
    monkeypatch.setenv(reference_documents.DIR_VARIABLE, str(tmp_path))
    assert reference_documents.folder() == tmp_path
    assert "lacks programs.openapi.json" in str(reference_documents.why_unavailable())


@REFERENCE
def test_the_reference_folder_is_found() -> None:
    assert oas.require_reference_folder().is_dir()


# --------------------------------------------------------------------------- the own record


def _record_violations(path: str, body: Any) -> set[str]:
    return {where for where, _ in wire_record.violations(path, body)}


def test_wire_record_accepts_a_hand_made_valid_entitlement_reply() -> None:
    assert _record_violations("entitlements/list", LISTED) == set()


@pytest.mark.parametrize(
    ("change", "caught_at"),
    [
        ({"configId": "22"}, "$.entitlements[0].configId"),
        ({"configId": 22.0}, "$.entitlements[0].configId"),
        ({"accountId": True}, "$.entitlements[0].accountId"),
        ({"token": None}, "$.entitlements[0].token"),
        ({"startDate": "2026-03-02T10:00:00"}, "$.entitlements[0].startDate"),
        ({"endDate": "2027-01-01"}, "$.entitlements[0].endDate"),
        ({"status": "RUNNING"}, "$.entitlements[0].status"),
        ({"folderPath": "My Assets"}, "$.entitlements[0]"),  # a key the record does not name
    ],
)
def test_wire_record_catches_a_mistyped_or_stray_entitlement_field(
    change: dict[str, Any], caught_at: str
) -> None:
    body = {**LISTED, "entitlements": [{**ITEM, **change}]}
    assert _record_violations("entitlements/list", body) == {caught_at}


@pytest.mark.parametrize(
    ("body", "caught_at"),
    [
        ({**LISTED, "error": "oops"}, "$.error"),
        ({**LISTED, "status": 1}, "$.status"),
        ({k: v for k, v in LISTED.items() if k != "status"}, "$"),
        (
            {**LISTED, "entitlements": [{k: v for k, v in ITEM.items() if k != "token"}]},
            "$.entitlements[0]",
        ),
        ({**LISTED, "vms": []}, "$"),
    ],
)
def test_wire_record_catches_a_wrong_envelope_or_a_missing_key(body: Any, caught_at: str) -> None:
    assert caught_at in _record_violations("entitlements/list", body)


def test_wire_record_holds_config_writes_to_one_object_and_lists_to_lists_Q1() -> None:
    config_item = {
        "id": 22,
        "name": "fgt",
        "programSerialNumber": "ELAVMR0000000101",
        "accountId": 100001,
        "status": "ACTIVE",
        "productType": {"id": 1, "name": "FortiGate-VM Service Bundle"},
        "parameters": [{"id": 1, "name": "CPU", "value": "4"}],
    }
    envelope = {"status": 0, "message": SUCCESS, "error": None}
    assert _record_violations("configs/create", {**envelope, "configs": config_item}) == set()
    assert _record_violations("configs/create", {**envelope, "configs": [config_item]}) == {
        "$.configs"
    }
    assert _record_violations("configs/list", {**envelope, "configs": config_item}) == {"$.configs"}
