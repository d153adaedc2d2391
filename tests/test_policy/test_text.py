from homesec.policy.retry import describe_error
from homesec.policy.text import shorten


def test_text_that_fits_is_kept_whole():
    assert shorten("no GPU on this box", 18) == "no GPU on this box"


def test_a_long_text_is_cut_at_a_word_boundary_with_an_ellipsis():
    text = "detector model not found: 'PekingU/rtdetr_v2_r50vd' is not a local directory"
    cut = shorten(text, 60)
    assert cut == "detector model not found: 'PekingU/rtdetr_v2_r50vd' is not…"
    assert len(shorten(text, 50)) <= 50
    assert shorten(text, 50) == "detector model not found…"  # the ":" before the cut goes too


def test_one_word_longer_than_the_limit_is_cut_inside_it():
    assert shorten("x" * 40, 10) == "x" * 9 + "…"


def test_an_error_description_is_cut_between_words():
    described = describe_error(RuntimeError("word " * 1000))
    assert described.endswith("word…") and len(described) <= 2000


def test_a_long_word_late_in_the_text_is_left_out_whole_not_cut():
    text = "no detector engine: /models/rtdetr_v2_r50vd/config.json was not found"
    assert shorten(text, 45) == "no detector engine…"
    assert shorten("ab " + "x" * 40, 20) == "ab…"


def test_a_cut_that_falls_between_words_keeps_the_last_word():
    assert shorten("one two three four", 9) == "one two…"
