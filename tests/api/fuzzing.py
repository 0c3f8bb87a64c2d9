"""Schemathesis against the live test server: the seeded world, realistic ids, the checks.

Schemathesis makes the requests (from an OpenAPI document's request schemas); Hypothesis runs
them with a fixed seed (``derandomize``) and a bounded number of examples per operation and
generation mode: ``POINTFLEX_SCHEMATHESIS_EXAMPLES`` (default :data:`DEFAULT_EXAMPLES`) raises
the count for a longer local run.

Random ids would only ever meet "not found", so half of the time a generated field whose name
is one the seeded world knows (``configId``, ``serialNumber``, ``programSerialNumber``, ...) is
swapped for one of the world's real values (:func:`realistic`): requests then reach the
business rules (states, points, scopes), not just the look-ups.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import hypothesis.strategies as st
from hypothesis import HealthCheck, Phase
from schemathesis import Case, GenerationMode, Response
from schemathesis.schemas import APIOperation

from pointflex.services.access.accounts import get_account
from pointflex.services.points import programs
from tests.api import oas_contract as oas
from tests.api.conftest import Api
from tests.builders import FGT_ENT_2, FGT_ENT_4, FGT_HW, OPERATOR, config, world

DEFAULT_EXAMPLES = 20
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
EDR_CLOUD = [{"id": 46, "value": "FEDRPDR"}]
FOLDER = "My Assets/fuzz"


def examples() -> int:
    """Examples per operation and mode: the environment's count, else the CI default."""
    raw = os.environ.get("POINTFLEX_SCHEMATHESIS_EXAMPLES", "")
    return int(raw) if raw.strip() else DEFAULT_EXAMPLES


def request_document(doc: oas.Document) -> dict[str, Any]:
    """A copy of a reference document with its requests translated exactly as oas_contract
    translates them for its own checks (T1 nullable, T2 ``"properties": []``), no ``servers``:
    the documents name Fortinet's production host, and requests go to the test server only."""
    document = oas._translate(doc.contents, response=False)  # one translation, shared
    document.pop("servers", None)
    return document


@dataclass
class Seeded:
    """The world the generated requests meet: real ids by wire field name, and a bearer."""

    api: Api
    token: str = field(repr=False)
    values: dict[str, list[Any]]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def seed(api: Api) -> Seeded:
    """An organisation with both program kinds, points, four configurations, VM (pending,
    active, stopped), hardware and cloud entitlements, and an Admin API user's real token."""
    rt = api.rt
    w = world(rt)
    programs.add_pack(rt, OPERATOR, w.prepaid, 50_000)
    with rt.engine.connect() as conn:
        org = get_account(conn, w.root).organization_id
    vm = config(rt, w.prepaid, FGT_ENT_2)
    vm4 = config(rt, w.prepaid, FGT_ENT_4, name="fgt-4")
    hw = config(rt, w.prepaid, FGT_HW, product=101, name="fgt-hw")
    cloud = config(rt, w.prepaid, EDR_CLOUD, product=206, name="edr")
    member = config(rt, w.prepaid, FGT_ENT_2, name="branch", account_id=w.member)
    token = api.user(organization_id=org)

    def create(endpoint: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        reply = api.call(endpoint, body, token)
        assert reply.status_code == 200, reply.text
        found: list[dict[str, Any]] = reply.json()["entitlements"]
        return found

    pending = create(
        "entitlements/vm/create", {"configId": vm.id, "count": 2, "folderPath": FOLDER}
    )
    active = create("entitlements/vm/create", {"configId": vm.id, "count": 2, "skipPending": True})
    stopped = active[1]["serialNumber"]
    assert api.call("entitlements/stop", {"serialNumber": stopped}, token).status_code == 200
    hardware = create(
        "entitlements/hardware/create",
        {"configId": hw.id, "serialNumbers": ["FGT60FTK19000010", "FGT60FTK19000013"]},
    )
    clouds = create("entitlements/cloud/create", {"configId": cloud.id})
    serials = [e["serialNumber"] for e in (*pending, *active, *hardware, *clouds)]
    config_ids = [vm.id, vm4.id, hw.id, cloud.id, member.id]
    values: dict[str, list[Any]] = {
        "programSerialNumber": [w.prepaid, w.postpaid],
        "serial": [w.prepaid, w.postpaid],  # /api/pointflex/v1/programs/{serial}/...
        "accountId": [w.root, w.member, str(w.root)],
        "sourceAccountId": [w.root],
        "targetAccountId": [w.member, w.root],
        "configId": config_ids,
        "sourceConfigId": config_ids,
        "targetConfigId": [*config_ids, None],
        "id": config_ids,
        "serialNumber": serials,
        "serialNumbers": [
            serials[:1],
            serials[2:4],
            [hardware[0]["serialNumber"]],
            ["FGT60FTK19000021"],  # a new device for hardware/create
            ["FGT60FTK19000022", "FGT60FTK19000023"],
        ],
        "productTypeId": [1, 101, 206],
        "parameters": [FGT_ENT_2, FGT_ENT_4, FGT_HW, EDR_CLOUD],
        "token": [e["token"] for e in pending],
        "folderPath": [FOLDER, "My Assets"],
        "startDate": ["2026-03-01", "2026-03-02 00:00:00"],
        "endDate": ["2026-06-30", "2026-12-31 00:00:00", None],
        "count": [1, 2, "1"],
        "status": ["ACTIVE", "PENDING", ["ACTIVE", "STOPPED"]],
    }
    return Seeded(api, token, values)


@st.composite
def realistic(
    draw: st.DrawFn, cases: st.SearchStrategy[Case], values: Mapping[str, Sequence[Any]]
) -> Case:
    """A generated case whose known fields are swapped for the world's values: in half of the
    cases all of them (a request that can succeed), else each with even odds."""
    case = draw(cases)
    every = draw(st.booleans())
    for fields in (case.body, case.path_parameters):
        if isinstance(fields, dict):
            for key in [k for k in fields if k in values]:
                if every or draw(st.booleans()):
                    fields[key] = draw(st.sampled_from(values[key]))
    return case


Check = Callable[[Case, Response], None]


def fuzz(
    operation: APIOperation,
    seeded: Seeded,
    base_url: str,
    check: Check,
) -> None:
    """Send ``examples()`` derandomised cases of ``operation`` and ``check`` every answer.

    Cases are valid (positive) and invalid (negative) for the request schema, mixed in one run;
    an operation without a body has nothing to negate and gets positive cases only.
    """
    modes = MODES if len(operation.body) else (GenerationMode.POSITIVE,)
    generated = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes))
    cases = realistic(generated, seeded.values)

    @hypothesis.settings(
        max_examples=examples(),
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        # Slow data (the world is real) and filtered negative cases are expected here.
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @hypothesis.given(case=cases)
    def one(case: Case) -> None:
        reply = case.call(base_url=base_url, headers=seeded.headers, timeout=30)
        check(case, reply)

    one()
