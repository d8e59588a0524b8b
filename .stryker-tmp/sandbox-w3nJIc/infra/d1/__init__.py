"""D1's SQL rules imitated on Python's sqlite3: used by the linter's scratch replay, the local
target and the loopback API server, so all three refuse what Cloudflare's D1 refuses."""
