import locale

import pytest


@pytest.fixture
def ascii_locale():
    """The process's locale set to C, whose encoding is ASCII (as on a machine without a UTF-8
    locale): reading or writing without an explicit encoding then fails on any non-ASCII byte."""
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    assert locale.getencoding() != "UTF-8"
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)
