"""Configurations: product types and their sizing."""
