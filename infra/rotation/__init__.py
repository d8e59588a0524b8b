"""The credential lifecycle: the team key's generations and overlap window, the MCP token's rotation.

- window.py: where a team key rotation stands (generation, previous key, its window) and the
  next state a rotation or an early finish gives. Pure.
- stack_file.py: writes `hyphae:credentials` into a stack file, keeping everything else as it is.
- team_key.py: `invoke rotate --credential team-key` (remote: the stack file; local: the state
  folder's key files), and `--finish`.
- mcp_token.py: `invoke rotate --credential mcp-token`, through the Worker's /mcp/rotate.
- status.py: what `invoke credentials` reports, read from the declaration and the database.
See docs/credentials.md. Nothing here imports Pulumi or prints a secret.
"""
