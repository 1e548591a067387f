"""src/utils.py: plain functions, tested without any sandbox (pythonpath = src in pyproject.toml)."""

from utils import is_external, parse_domains, tag_subject

OURS = parse_domains("example.com, Sales.Example.com")


def test_parse_domains():
    assert {"example.com", "sales.example.com"} == OURS


def test_is_external():
    assert is_external("sales@partner.example.org", OURS)
    assert not is_external("Dave@SALES.example.com", OURS)


def test_tag_subject_tags_once():
    assert tag_subject("Price list") == "[External] Price list"
    assert tag_subject("[External] Price list") == "[External] Price list"
    assert tag_subject("") == "[External]"
