"""Scheduled jobs: plain functions over services, a lease per job, and a thin loop.

Every node may run ``pointflex jobs run``: a job runs where its lease was claimed, each job is
idempotent, and a crashed runner's lease runs out (docs/jobs.md).
"""
