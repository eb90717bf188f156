"""The transport-neutral channel runtime: it loads no Azure package."""
