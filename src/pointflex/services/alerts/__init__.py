"""Alerts: raised, thresholds, where they go, delivery."""
