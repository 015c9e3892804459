import pytest

from extractors.feeds import parse_feed

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>One</title><link>https://news.example.com/a?utm_source=rss</link><guid>same</guid></item>
<item><title>Two</title><link>https://news.example.com/b</link><guid>same</guid></item>
<item><title>Relative</title><link>/c</link></item>
<item><title>No link</title></item>
</channel></rss>"""


def test_entries_key_on_guid_and_link_together():
    title, entries, bozo = parse_feed(RSS, "https://news.example.com/feed.xml")
    assert title == "T" and bozo is None
    assert [e.url for e in entries] == [
        "https://news.example.com/a",
        "https://news.example.com/b",
        "https://news.example.com/c",
    ]
    assert len({e.entry_key for e in entries}) == 3


def test_html_is_not_a_feed():
    with pytest.raises(ValueError, match="not a readable RSS/Atom feed"):
        parse_feed(b"<html><body><p>Hello</p></body></html>", "https://news.example.com/feed")


def test_atom_and_rss1_parse():
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
    <entry><title>E</title><id>urn:x</id><link href="https://a.example.com/e"/><updated>2026-11-14T08:00:00Z</updated></entry></feed>"""
    rdf = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
    <channel rdf:about="https://r.example.com/"><title>R</title><link>https://r.example.com/</link><description>d</description></channel>
    <item rdf:about="https://r.example.com/1"><title>I</title><link>https://r.example.com/1</link></item></rdf:RDF>"""
    _, atom_entries, _ = parse_feed(atom, "https://a.example.com/feed")
    _, rdf_entries, _ = parse_feed(rdf, "https://r.example.com/feed")
    assert atom_entries[0].url == "https://a.example.com/e" and atom_entries[0].published_at.day == 14
    assert rdf_entries[0].url == "https://r.example.com/1"
