"""Adapters to the world outside: mail and webhook senders, database dump tools."""
