import pytest

from extractors.money import find_money


@pytest.mark.parametrize(
    "text,currency,usd",
    [
        ("India's five systems cost $5.5 billion.", "USD", 5.5e9),
        ("a US$740 million package", "USD", 740e6),
        ("the order is worth €2.1bn", "EUR", None),
        ("valued at 1.2 trillion won", "KRW", None),
        ("a Rs 19,000 crore contract", "INR", None),
        ("a $350m follow-on order", "USD", 350e6),
    ],
)
def test_amounts_are_found_and_converted(text, currency, usd):
    [money] = find_money(text)
    assert money.currency == currency
    assert money.value_usd > 0
    if usd is not None:
        assert money.value_usd == pytest.approx(usd)


def test_years_and_counts_are_not_money():
    assert find_money("In 2019 it ordered 36 jets and 12 helicopters.") == []
