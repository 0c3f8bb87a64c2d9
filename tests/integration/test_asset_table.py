"""My Assets' table query on a real database: the folder filter takes in the folders below
the one asked for, and nothing that merely starts with the same letters."""

from __future__ import annotations

from pointflex.bootstrap import Runtime
from pointflex.services.entitlements import creation
from pointflex.services.entitlements.asset_table import asset_page
from pointflex.services.entitlements.views import EntitlementFilter
from tests.builders import OPERATOR, config, world

FOLDERS = ["", "Branches", "Branches/Paris", "Branches2", "Lab_1", "LabX1"]


def test_a_folder_filter_shows_the_folder_and_everything_below_it(rt: Runtime) -> None:
    w = world(rt)
    cfg = config(rt, w.prepaid).id
    where = {}
    for folder in FOLDERS:
        (made,) = creation.create_vm(rt, OPERATOR, config_id=cfg, folder_path=folder or None)
        where[made.serial] = made.folder_path

    def shown(tree: str) -> set[str]:
        page = asset_page(rt, OPERATOR, EntitlementFilter(folder_tree=tree))
        assert page.total == len(page.rows)
        return {where[row.serial] for row in page.rows}

    assert shown("My Assets/Branches") == {"My Assets/Branches", "My Assets/Branches/Paris"}
    assert shown("My Assets/Branches/") == {"My Assets/Branches", "My Assets/Branches/Paris"}
    assert shown("My Assets/Branches/Paris") == {"My Assets/Branches/Paris"}
    # "_" is a LIKE wildcard: it must match itself only.
    assert shown("My Assets/Lab_1") == {"My Assets/Lab_1"}
    assert shown("My Assets") == set(where.values())
    assert shown("My Assets/Nowhere") == set()
