"""Hypothesis strategies shared by the codec and JSON tests: any text, JSON values.

Sizes and bounds are parameters so each test keeps the search space it had;
the shapes are defined once.
"""

from __future__ import annotations

from hypothesis import strategies as st

#: Any code point: lone surrogates, DEL and every category included.
ANY_CHAR = st.characters(exclude_categories=())


def any_text(max_size: int = 30) -> st.SearchStrategy[str]:
    """Strings of any code points, at most ``max_size`` long."""
    return st.text(ANY_CHAR, max_size=max_size)


def json_values(
    int_bound: int, max_leaves: int, text: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy:
    """JSON-ish values: None, bools, ints within ``±int_bound``, any float, ``text``,
    nested in lists and dicts (string keys) of up to four items."""
    text = any_text() if text is None else text
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-int_bound, max_value=int_bound)
        | st.floats()
        | text
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4)
        ),
        max_leaves=max_leaves,
    )
