"""The licence service: token activation, validation, guessing guard."""
