"""Where webhooks may go: private and special addresses refused at registration and at
delivery, unless WEBHOOK_ALLOWED_HOSTS lists the host; the connection goes to the checked
address. No traffic leaves loopback: names are resolved by a stand-in resolver."""

import pytest

from extraction.webhooks import delivery, ssrf
from extraction.webhooks.errors import WebhookUrlRefused
from extraction.webhooks.signing import new_secret, signature_headers


def resolver(mapping):
    calls = []

    def getaddrinfo(host, port):
        calls.append(host)
        family = 10 if ":" in mapping[host] else 2
        return [(family, 1, 6, "", (mapping[host], port))]

    getaddrinfo.calls = calls
    return getaddrinfo


@pytest.fixture
def no_allowed_hosts(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    settings.WEBHOOK_ALLOW_HTTP = True
    return settings


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/hook",
        "https://[::1]/hook",
        "https://127.0.0.1:8443/hook",
        "https://[fd00::1]/hook",
        "https://224.0.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[64:ff9b::a9fe:a9fe]/hook",
        "https://240.0.0.1/hook",
    ],
)
def test_special_addresses_are_refused(url, no_allowed_hosts, monkeypatch):
    monkeypatch.setattr(ssrf, "_getaddrinfo", resolver({}))
    with pytest.raises(WebhookUrlRefused) as refused:
        ssrf.check_url(url)
    assert refused.value.fields["reason"] == "forbidden_address"


def test_a_name_resolving_to_loopback_is_refused(no_allowed_hosts, monkeypatch):
    fake = resolver({"hooks.evil.test": "127.0.0.1"})
    monkeypatch.setattr(ssrf, "_getaddrinfo", fake)
    with pytest.raises(WebhookUrlRefused) as refused:
        ssrf.check_url("https://hooks.evil.test/x")
    assert refused.value.fields == {"reason": "forbidden_address", "address": "127.0.0.1"}
    # the message says how to allow a host on purpose (a receiver on a laptop)
    assert "list 'hooks.evil.test' in the WEBHOOK_ALLOWED_HOSTS setting" in str(refused.value)
    assert fake.calls == ["hooks.evil.test"]


def test_any_forbidden_address_among_several_refuses(no_allowed_hosts, monkeypatch):
    answers = [(2, 1, 6, "", ("93.184.215.14", 443)), (2, 1, 6, "", ("10.1.2.3", 443))]
    monkeypatch.setattr(ssrf, "_getaddrinfo", lambda host, port: answers)
    with pytest.raises(WebhookUrlRefused):
        ssrf.check_url("https://two.example.com/x")


def test_allowed_hosts_lets_a_listed_host_through(no_allowed_hosts, monkeypatch):
    no_allowed_hosts.WEBHOOK_ALLOWED_HOSTS = ["hooks.internal.test"]
    monkeypatch.setattr(ssrf, "_getaddrinfo", resolver({"hooks.internal.test": "10.0.0.7"}))
    destination = ssrf.check_url("https://hooks.internal.test/x")
    assert destination.address == "10.0.0.7" and destination.port == 443
    with pytest.raises(WebhookUrlRefused):
        ssrf.check_url("https://10.0.0.7/x")  # the address itself is not listed


def test_unresolvable_and_credentials_are_refused(no_allowed_hosts, monkeypatch):
    def fail(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(ssrf, "_getaddrinfo", fail)
    with pytest.raises(WebhookUrlRefused) as refused:
        ssrf.check_url("https://nowhere.invalid/x")
    assert refused.value.fields["reason"] == "unresolvable"
    with pytest.raises(WebhookUrlRefused) as refused:
        ssrf.check_url("https://user:pw@93.184.215.14/x")
    assert refused.value.fields["reason"] == "credentials"


def test_delivery_checks_again_and_sends_nothing_to_a_rebound_name(
    no_allowed_hosts, monkeypatch, receivers
):
    # Registered while it resolved to a public address; now it resolves to loopback.
    receiver = receivers(["whsec_" + "A" * 43])
    monkeypatch.setattr(ssrf, "_getaddrinfo", resolver({"rebind.test": "127.0.0.1"}))
    result = delivery.post(url=f"http://rebind.test:{receiver.port}/x", body="{}", headers={})
    assert result.status_code is None and result.error.startswith("refused:")
    assert receiver.records() == []


def test_the_connection_goes_to_the_checked_address_with_the_urls_host(
    webhook_settings, monkeypatch, receivers
):
    secret = new_secret()
    receiver = receivers([secret])
    webhook_settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.customer.test"]
    fake = resolver({"hooks.customer.test": "127.0.0.1"})
    monkeypatch.setattr(ssrf, "_getaddrinfo", fake)
    from datetime import UTC, datetime

    body = '{"type":"ping","timestamp":"now","data":{}}'
    headers = signature_headers(
        msg_id="msg_1", timestamp=datetime.now(UTC), body=body, secrets_=[secret]
    )
    url = f"http://hooks.customer.test:{receiver.port}/x"
    result = delivery.post(url=url, body=body, headers=headers)
    assert result.status_code == 200, result
    [record] = receiver.records()
    assert record["host"] == f"hooks.customer.test:{receiver.port}" and record["verified"]
    assert fake.calls == ["hooks.customer.test"]  # resolved once, then connected to that address
