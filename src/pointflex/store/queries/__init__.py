"""Typed queries per area, on one transaction's connection: what a unit of work offers."""
