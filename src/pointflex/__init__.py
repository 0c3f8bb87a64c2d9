"""pointflex: self-hosted usage-based licensing."""

__version__ = "0.1.0"
