"""docs/ODD.md's parameter tables match the code."""

from sim.docs import ODD, render


def test_odd_parameter_tables_are_up_to_date():
    text = ODD.read_text()
    assert render(text) == text, "run `make docs` (python -m sim.docs)"


def test_odd_covers_every_mechanism():
    text = ODD.read_text()
    for m in range(1, 13):
        assert f"M{m}" in text
