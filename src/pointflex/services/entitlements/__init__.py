"""Entitlements: create, change, transfer, schedule, read and export."""
