"""The FortiFlex v2 wire API (spec/fortiflex-api.md), under /ES/api/fortiflex/v2/."""
