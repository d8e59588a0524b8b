"""The client's MCP token hash (reference §3.6), written from its description, for the tests."""

from __future__ import annotations


def client_token_hash(token: str) -> str:
    """Java's String.hashCode over UTF-16 code units, absolute value, 8 lowercase hex digits."""
    units = token.encode("utf-16-le")
    value = 0
    for index in range(0, len(units), 2):
        value = (value * 31 + int.from_bytes(units[index:index + 2], "little")) & 0xFFFFFFFF
    signed = value - (1 << 32) if value >= 1 << 31 else value
    return f"{abs(signed):08x}"[:8]
