"""The SSRF guard is tested on the function alone: nothing here opens a connection."""

import pytest

from extractors.netguard import UnsafeAddressError, check_url


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost/", "http://10.0.0.5/", "http://192.168.1.1/", "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fd00::1]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/",
    "http://127.1/", "http://0.0.0.0/", "http://100.64.0.1/", "http://[fe80::1]/",
])
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
