from extractors.urls import canonicalize_url, domain_of, same_site


def test_tracking_parameters_fragments_and_default_ports_are_dropped():
    url = "HTTPS://WWW.Example.com:443/world/story.html?utm_source=rss&b=2&ocid=msn&a=1&fbclid=x#comments"
    assert canonicalize_url(url) == "https://www.example.com/world/story.html?a=1&b=2"


def test_amp_and_mobile_variants_fold_onto_the_desktop_url():
    assert canonicalize_url("https://m.example.com/world/story/amp/") == "https://example.com/world/story/"
    assert canonicalize_url("https://amp.example.com/world/story") == "https://example.com/world/story"
    assert canonicalize_url("https://www.example.com/world/story.amp") == "https://www.example.com/world/story"


def test_loopback_sites_stay_apart_by_port():
    assert domain_of("http://127.0.0.1:8001/a") != domain_of("http://127.0.0.1:8002/a")
    assert domain_of("https://www.example.com/a") == "example.com"
    assert same_site("https://www.example.com/a", "https://example.com/b")
    assert not same_site("https://example.com/a", "https://other.example.org/a")


def test_bylines_and_author_fields_naming_a_wire_credit_it():
    from extractors.attribution import find_syndicated_from

    assert find_syndicated_from("By Jane Doe, Reuters\nWASHINGTON - The sale...", "", [], "Yahoo News") == "Reuters"
    assert find_syndicated_from("Text.", '<meta name="author" content="AFP">', [], "Portal") == "AFP"
    assert (
        find_syndicated_from("NEW DELHI, Nov 14 (Northline Wire) - Russia...", "", [], "Dailyfold") == "Northline Wire"
    )
    assert find_syndicated_from("By Reuters staff\nText.", "", [], "Reuters") is None  # its own story
    assert find_syndicated_from("By Jane Doe\nText.", '<meta name="author" content="Jane Doe">', [], "Herald") is None
