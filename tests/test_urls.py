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


def test_every_form_of_wire_credit_is_read_and_stored_in_one_spelling():
    from extractors.attribution import canonical_source, find_syndicated_from

    assert (
        find_syndicated_from("(AP) — Officials said on Monday the order stands.", "", [], "Valley Gazette")
        == "Associated Press"
    )
    assert (
        find_syndicated_from("BRANDPORT, Ohio (AP) — The council met.", "", [], "Valley Gazette") == "Associated Press"
    )
    assert (
        find_syndicated_from("By The Associated Press\nThe council met.", "", [], "Valley Gazette")
        == "Associated Press"
    )
    assert (
        find_syndicated_from("By JO BLOGGS – Associated Press\nText.", "", [], "Valley Gazette") == "Associated Press"
    )
    assert (
        find_syndicated_from("The order was signed on Monday, officials said. — Reuters", "", [], "Portal") == "Reuters"
    )
    assert find_syndicated_from("Text.\n\nRead the whole story from Reuters.", "", [], "Blog") == "Reuters"
    assert find_syndicated_from("LISBON, 3 March 2024 (Reuters) - The ministry said.", "", [], "Portal") == "Reuters"
    assert find_syndicated_from("Text.", '<div class="article-byline">By Jo Bloggs, AFP</div>', [], "Portal") == "AFP"
    assert find_syndicated_from("Text.", "", [{"author": {"name": "Yonhap News Agency"}}], "Portal") == "Yonhap"
    assert (
        find_syndicated_from(
            "ANKARA (Daily Portal / Sputnik - 3rd May, 2024) The ministry said.", "", [], "Daily Portal"
        )
        == "Sputnik"
    )
    cited = (
        "Talks were postponed, according to South Korea's (Yonhap) news agency.\n\n"
        "The two sides will meet again next month, according to Yonhap."
    )
    assert find_syndicated_from(cited, "", [], "Portal") == "Yonhap"
    assert canonical_source("The Associated Press") == canonical_source("AP") == "Associated Press"


def test_a_single_citation_or_a_city_list_is_not_a_credit():
    from extractors.attribution import find_syndicated_from

    assert (
        find_syndicated_from(
            "The army fired a missile, the Yonhap news agency reported, citing officials.", "", [], "Gulf Daily"
        )
        is None
    )
    assert (
        find_syndicated_from("(SEOUL, TOKYO and LONDON) — The launch came as talks began.", "", [], "Radio 9") is None
    )
    assert find_syndicated_from("Copyright 2026 The Associated Press. All rights reserved.", "", [], "AP") is None
    relayed = "The North staged a drill, according to KCNA.\n\nKCNA said the drill tested a new launcher."
    assert find_syndicated_from(relayed, "", [], "Yonhap News Agency") is None  # an agency relaying another's report


def test_a_lone_surrogate_in_a_feed_link_is_replaced_not_fatal():
    # feedparser turns "&#xD800;" into a lone surrogate, which cannot be percent-encoded as UTF-8.
    assert canonicalize_url("http://a.test/\udfff/p?q=\ud800") == "http://a.test/\ufffd/p?q=%EF%BF%BD"
