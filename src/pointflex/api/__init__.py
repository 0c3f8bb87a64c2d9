"""HTTP entry points: the FortiFlex v2 wire API, the OAuth token service, pointflex's own API."""
