"""Building a client: each mistake is a typed error that names it (issue 24, item 10).

Arguments are the caller's: ``ValueError`` naming the argument (``api_key=""`` is refused, not
replaced by ``AUROUS_API_KEY``; a malformed ``base_url``). The environment's TLS files and proxy
variables are read by httpx when the SDK builds its HTTP client: a bad one is an
``aurous.AurousError`` naming the variable and its value (never a proxy's password), where httpx
raised a bare ``FileNotFoundError``, ``ssl.SSLError``, ``httpx.InvalidURL``, ``ValueError`` or
``ImportError``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx
import pytest

import aurous

KEY = "al_live_" + "ef" * 32
CLIENTS = [aurous.Client, aurous.AsyncClient]
_TLS_AND_PROXY = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*_TLS_AND_PROXY, "AUROUS_API_KEY", "AUROUS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("api_key", ["", "   "])
def test_an_empty_api_key_is_refused_not_replaced_by_the_environment(
    cls: type[aurous.Client], api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUROUS_API_KEY", KEY)
    with pytest.raises(ValueError, match="api_key is empty"):
        cls(api_key=api_key)


BAD_BASE_URLS = [
    "http://[::1",
    "http://exa mple.com",
    "http://",
    "https://host:99999",
    "https://host:0",
    "https://api.test/v1?x=1",
    "https://api.test/#top",
    "ftp://api.test",
    "api.test",
    "https://a\x00b",
]


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("base_url", BAD_BASE_URLS)
def test_a_malformed_base_url_is_a_value_error_naming_it(
    cls: type[aurous.Client], base_url: str
) -> None:
    with pytest.raises(ValueError, match="base_url") as caught:
        cls(api_key=KEY, base_url=base_url)
    assert type(caught.value) is ValueError


@pytest.mark.parametrize("cls", CLIENTS)
def test_a_malformed_base_url_in_the_environment_names_the_variable(
    cls: type[aurous.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUROUS_BASE_URL", "http://[::1")
    with pytest.raises(ValueError, match="AUROUS_BASE_URL"):
        cls(api_key=KEY)


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize(
    "base_url",
    ["https://api.test", "http://127.0.0.1:8080/", "https://[::1]:443", "https://a.test/v"],
)
def test_good_base_urls_are_accepted(cls: type[aurous.Client], base_url: str) -> None:
    assert cls(api_key=KEY, base_url=base_url).base_url == base_url.rstrip("/")


# ---- TLS files --------------------------------------------------------------------------------


def _tls_error(cls: type[aurous.Client]) -> aurous.AurousError:
    with pytest.raises(aurous.AurousError) as caught:
        cls(api_key=KEY)
    return caught.value


@pytest.mark.parametrize("cls", CLIENTS)
def test_ssl_cert_file_pointing_nowhere_names_the_variable_and_the_path(
    cls: type[aurous.Client], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "ca.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    error = _tls_error(cls)
    assert "SSL_CERT_FILE" in str(error)
    assert str(missing) in str(error)


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("content", ["", "not a certificate\n"], ids=["empty", "garbage"])
def test_a_ca_file_without_certificates_names_the_variable_and_the_path(
    cls: type[aurous.Client], content: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / f"ca-{len(content)}.pem"
    bundle.write_text(content)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    error = _tls_error(cls)
    assert "SSL_CERT_FILE" in str(error)
    assert str(bundle) in str(error)


@pytest.mark.parametrize("cls", CLIENTS)
def test_ssl_cert_dir_pointing_nowhere_names_the_variable(
    cls: type[aurous.Client], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # httpx would accept it, and every TLS handshake would then fail to verify.
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "no-such-dir"))
    error = _tls_error(cls)
    assert "SSL_CERT_DIR" in str(error)
    assert "no-such-dir" in str(error)


# ---- proxy variables ----------------------------------------------------------------------------

BAD_PROXIES = [
    "http://[::1",
    "ftp://proxy.internal:21",
    "http://proxy.internal:99999",
    "http://user:hunter2@[bad",
    "http:// proxy",
    "://",
]


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"])
@pytest.mark.parametrize("value", BAD_PROXIES)
def test_a_malformed_proxy_variable_names_the_variable(
    cls: type[aurous.Client], variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(aurous.AurousError) as caught:
        cls(api_key=KEY)
    text = str(caught.value)
    assert variable in text
    assert "hunter2" not in text


@pytest.mark.skipif(importlib.util.find_spec("socksio") is not None, reason="socksio installed")
@pytest.mark.parametrize("cls", CLIENTS)
def test_a_socks_proxy_without_its_package_says_what_to_install(
    cls: type[aurous.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5://proxy.internal:1080")
    with pytest.raises(aurous.AurousError, match=r"HTTPS_PROXY.*httpx\[socks\]"):
        cls(api_key=KEY)


@pytest.mark.parametrize("cls", CLIENTS)
def test_usable_proxy_settings_are_accepted(
    cls: type[aurous.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "proxy.internal:3128")  # httpx reads it as http://
    monkeypatch.setenv("HTTP_PROXY", "http://user:pw@proxy.internal:3128")
    cls(api_key=KEY)


@pytest.mark.parametrize("cls", CLIENTS)
def test_no_proxy_star_turns_the_proxy_variables_off(
    cls: type[aurous.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://[::1")
    monkeypatch.setenv("NO_PROXY", "*")
    cls(api_key=KEY)


@pytest.mark.parametrize("cls", CLIENTS)
def test_the_environment_is_not_checked_for_a_callers_own_http_client(
    cls: type[aurous.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    http: httpx.Client | httpx.AsyncClient
    http = httpx.AsyncClient() if issubclass(cls, aurous.AsyncClient) else httpx.Client()
    monkeypatch.setenv("HTTPS_PROXY", "http://[::1")
    monkeypatch.setenv("SSL_CERT_FILE", "/nowhere/ca.pem")
    cls(api_key=KEY, http_client=http)  # type: ignore[arg-type]
