"""Renderers: what the services return, written as files (CSV, XLSX, JSON, HTML)."""
