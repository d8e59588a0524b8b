"""D1's export format: values written by hyphae come back exactly; D1's own way loses the known cases."""

from __future__ import annotations

import math
import sqlite3

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from infra.backup.sqltext import format_value, inserted_table, iter_statements, statement_kind
from infra.errors import BackupCorrupted

values = st.one_of(st.none(), st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1),
                   st.floats(allow_nan=False), st.text(), st.binary())


def read_back(literal: str):
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (v)")  # no affinity: a value keeps the type it is written with
    connection.execute(f"INSERT INTO t VALUES ({literal})")
    return connection.execute("SELECT v FROM t").fetchone()[0]


def parses_exactly(value: float) -> bool:
    """Whether this machine's SQLite reads the shortest decimal of `value` back as `value`. Python
    3.11 ships SQLite 3.40, whose text-to-real conversion is off by one unit in the last place for
    some extreme values (9.753186657020661e-296 reads back as 9.75318665702066e-296); D1's and
    workerd's newer SQLite (3.54 checked) read them exactly. docs/backup.md says so."""
    return read_back(format_value(value)) == value if math.isinf(value) else read_back(repr(value)) == value


@given(values)
def test_every_value_hyphae_writes_reads_back_exactly_with_its_type(value):
    assume(type(value) is not float or parses_exactly(value))
    back = read_back(format_value(value))
    assert (type(back), back) == (type(value), value)


@given(st.text(alphabet="\n\r\\nr0125\x00'x", max_size=30))
def test_text_made_of_escape_characters_and_markers_reads_back_exactly(text):
    # Line breaks, NUL and the very characters the escape markers are made of, in every order.
    assert read_back(format_value(text)) == text


@pytest.mark.parametrize("value, changed_into", [
    ("a\nb \\n c", "a\nb \n c"),  # a line break beside a literal \n: both become line breaks
    ("x\r\\r", "x\r\r"),
    (2 ** 53 + 1, 2 ** 53),  # JavaScript's numbers round big integers
    (3.0, 3),  # and print a whole REAL as an integer
])
def test_d1s_own_formatting_changes_the_values_the_docs_name(value, changed_into):
    assert read_back(format_value(value, exact=False)) == changed_into
    assert read_back(format_value(value)) == value


def test_d1s_formatting_writes_numbers_as_javascript_prints_them():
    written = [format_value(value, exact=False) for value in (3.0, 1e-7, 1e21, 1e20, 0.000001, -2.5, 1234.5678)]
    assert written == ["3", "1e-7", "1e+21", "100000000000000000000", "0.000001", "-2.5", "1234.5678"]


def test_line_breaks_are_escaped_so_each_insert_is_one_line():
    literal = format_value("one\ntwo\r\nthree")
    assert "\n" not in literal and "\r" not in literal
    assert literal == "replace(replace('one\\ntwo\\r\\nthree','\\r',char(13)),'\\n',char(10))"


def test_statements_are_read_whole_across_lines_and_a_cut_one_is_refused():
    lines = ["PRAGMA defer_foreign_keys=TRUE;\n", "CREATE TABLE t (\n", "  v TEXT\n", ");\n",
             "CREATE TRIGGER r AFTER INSERT ON t BEGIN\n", "  UPDATE t SET v = 'a;b';\n", "END;\n"]
    statements = list(iter_statements(lines, "x.sql.gz"))
    assert [statement_kind(statement) for statement in statements] == ["other", "table", "trigger"]
    with pytest.raises(BackupCorrupted, match=r"^x\.sql\.gz ends inside a statement .*truncated; nothing was restored$"):
        list(iter_statements(lines[:-1], "x.sql.gz"))


def test_the_table_of_an_insert_is_read_with_doubled_quotes():
    assert inserted_table('INSERT INTO "a""b" VALUES(1);') == 'a"b'
    assert inserted_table("CREATE TABLE x (a);") is None
