"""The legacy v1 path still called by Terraform and Ansible: /ES/api/flexvm/v1/groups/list."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["groups"])
