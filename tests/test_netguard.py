"""The SSRF guard is tested on the function alone: nothing here opens a connection."""

import ipaddress

import pytest

from extractors.netguard import GuardedNetworkBackend, UnsafeAddressError, check_url, is_public_ip


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://[fe80::1]/",
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(url):
    with pytest.raises(UnsafeAddressError):
        check_url(url, resolve=url == "http://localhost/")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1/"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(UnsafeAddressError):
        check_url(url, resolve=False)


def test_public_literal_addresses_pass_and_the_flag_allows_private_ones():
    assert check_url("http://93.184.216.34/", resolve=False) == ["93.184.216.34"]
    assert check_url("http://127.0.0.1:8080/", allow_private=True, resolve=False) == ["127.0.0.1"]


@pytest.mark.parametrize(
    "url",
    [
        # The cloud metadata service, however it is spelt.
        "http://169.254.169.254/",
        "http://2852039166/",
        "http://0xa9fea9fe/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://0251.0376.0251.0376/",
        "http://169.254.43518/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[::169.254.169.254]/",
        "http://[2002:a9fe:a9fe::1]/",
        "http://[fd00:ec2::254]/",
        "http://metadata.google.internal/",
        # Unique-local, site-local and link-local IPv6, loopback in IPv6 dress.
        "http://[fd12:3456:789a::1]/",
        "http://[fdff:ffff::1]/",
        "http://[fec0::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:7f00:1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[::]/",
        # Loopback and "this host" in other spellings.
        "http://0x7f.1/",
        "http://127.000.000.001/",
        "http://0/",
        "http://sub.localhost/",
        "http://LOCALHOST./",
    ],
)
def test_link_local_metadata_and_disguised_addresses_are_refused_before_any_connection(url):
    with pytest.raises(UnsafeAddressError):
        check_url(url, resolve=False)


def test_the_refusal_says_what_and_how_to_allow_it():
    with pytest.raises(UnsafeAddressError, match=r"non-public address 169\.254\.169\.254 .*--allow-private-networks"):
        check_url("http://2852039166/latest/meta-data/", resolve=False)


def test_allowed_networks_open_only_the_listed_range():
    assert check_url("http://127.0.0.2:8080/", resolve=False, allowed_networks=["127.0.0.2/32"]) == ["127.0.0.2"]
    with pytest.raises(UnsafeAddressError):
        check_url("http://127.0.0.1:8080/", resolve=False, allowed_networks=["127.0.0.2/32"])
    with pytest.raises(UnsafeAddressError):
        check_url("http://[::ffff:127.0.0.1]/", resolve=False, allowed_networks=["::1/128"])


def test_names_are_left_to_the_connection_time_check_when_not_resolving():
    assert check_url("https://news.example.com/feed", resolve=False) == []
    assert is_public_ip(ipaddress.ip_address("2a00:1450:4001::1"))
    assert not is_public_ip(ipaddress.ip_address("::ffff:10.0.0.1"))


def test_the_connection_time_check_refuses_a_name_with_any_private_answer():
    """The guarded backend checks every address a name resolves to before it connects."""
    import asyncio

    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "169.254.169.254"]

    backend = GuardedNetworkBackend(resolver=resolver)
    with pytest.raises(UnsafeAddressError, match="169.254.169.254"):
        asyncio.run(backend.connect_tcp("rebind.example", 80))
    assert backend.connected == []
