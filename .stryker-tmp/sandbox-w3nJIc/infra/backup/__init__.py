"""Backups people can restore: D1's export as a verified artifact, and the way back.

The stages, one module each:
- `sqltext`: D1's export format (how values and names are written, reading it back statement by
  statement, streamed);
- `dump`: a database written in that format (the local export, and the import file for D1);
- `virtual`: FTS5 tables, which D1 refuses to export (workers-sdk #6305, #9519);
- `lossy`: the values D1's export does not write back exactly, found before they are lost;
- `manifest`: the file beside each backup (sha256, size, history, row counts) and its check;
- `scratch`: a backup loaded into a scratch SQLite with D1's rules, and its verification against
  the manifest (schema through drift's comparison, row counts);
- `importfile`: the file D1's import takes, written from a verified scratch database;
- `take`: `invoke backup` (local file or the D1 export API), `restore`: `invoke restore
  --from-backup`, `destroy`: `invoke destroy`, `guard`: the backup `migrate` takes before an
  allowed destructive change.
The `cloudflare` SDK stays in `infra/targets/d1_transfer_api.py`; see docs/backup.md.
"""
