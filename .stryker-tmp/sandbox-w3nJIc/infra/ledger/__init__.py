"""The ledger: what has been applied to a database, kept inside that database.

- `d1_migrations(id, name UNIQUE, applied_at)`: wrangler's own table, written exactly as
  `wrangler d1 migrations apply` writes it, so wrangler sees hyphae's migrations as applied.
- `hyphae_migrations`: one row per applied migration, keyed by the same name, with its sha256,
  who applied it and in which run (`adopted = 1` for migrations wrangler applied and hyphae verified).
- `hyphae_restore_points`: the restore point taken before each run that applied something.
- `hyphae_lock`, `hyphae_lock_guard`: the migration lease (see lock.py).
- `hyphae_adoption_guard`: always empty; its CHECK aborts a first batch on a database wrangler
  migrated when --adopt was not given (see schema.py).

schema.py declares the tables and the rows a run writes; read.py reads them; verify.py compares
them with the files (HIS002-HIS004); adopt.py takes over a wrangler-managed database.
"""
