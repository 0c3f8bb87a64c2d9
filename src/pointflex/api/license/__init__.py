"""The licence service's HTTP routes (docs/licence-protocol.md): activation, validation, keys."""
