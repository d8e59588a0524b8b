import pytest

from infra.drift import normalize

CACHED = (normalize.normalize_expression, normalize.normalize_type, normalize.normalize_statement,
          normalize.read_index_sql, normalize.read_table_checks, normalize.read_generated_columns)


@pytest.fixture(autouse=True)
def fresh_normalize_caches():
    """Each test reads SQL through the lens itself, not through answers cached by an earlier test
    (mutation testing runs a test in a process whose caches the clean run filled)."""
    for function in CACHED:
        function.cache_clear()
