"""Signing: Ed25519 keys and the signed licence documents (docs/licence-protocol.md)."""
