import pytest

from webapp.config import ConfigError, check_settings, load_settings, parse_bool, parse_int, parse_url

STRONG = "x" * 48


def settings(**env):
    return load_settings(env, "/tmp/instance")


@pytest.mark.parametrize("raw", ["yes please", "2", "enabled"])
def test_parse_bool_rejects_junk(raw):
    with pytest.raises(ConfigError, match="FLAG"):
        parse_bool("FLAG", raw)


@pytest.mark.parametrize("raw", ["yes", "12.5", "", "0x10"])
def test_parse_int_rejects_junk(raw):
    with pytest.raises(ConfigError, match="PORT"):
        parse_int("PORT", raw)


def test_parse_int_enforces_range():
    with pytest.raises(ConfigError, match="at least 4"):
        parse_int("BCRYPT_ROUNDS", "3", minimum=4)


def test_parse_url_rejects_wrong_scheme_and_missing_host():
    with pytest.raises(ConfigError, match="REDIS_URL"):
        parse_url("REDIS_URL", "http://localhost:6379", ("redis",))
    with pytest.raises(ConfigError, match="no host"):
        parse_url("REDIS_URL", "redis://", ("redis",))


def test_bad_environment_values_fail_at_load():
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        settings(TRUSTED_PROXIES="yes")
    with pytest.raises(ConfigError, match="REGISTRATION_MODE"):
        settings(REGISTRATION_MODE="sometimes")
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        settings(LOG_FORMAT="xml")


def test_defaults_use_embedded_sqlite_under_instance():
    config = settings()
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/instance/flowdeck.db"
    assert config["FLOWDECK_ENV"] == "production"
    assert config["AMQP_URL"] is None


def test_postgres_urls_use_psycopg3():
    assert settings(DATABASE_URL="postgres://u@h/db")["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("secret", ["", "changeme", "you-will-never-guess", "short-but-random-1234"])
def test_production_refuses_missing_default_or_short_secret_key(secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        check_settings(settings(SECRET_KEY=secret, JWT_SECRET=STRONG))


@pytest.mark.parametrize("secret", ["changeme", "short-but-random-1234"])
def test_production_refuses_a_weak_or_short_jwt_secret(secret):
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        check_settings(settings(SECRET_KEY=STRONG, JWT_SECRET=secret))


def test_production_refuses_missing_jwt_secret():
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        check_settings(settings(SECRET_KEY=STRONG))


def test_production_refuses_jwt_secret_equal_to_secret_key():
    with pytest.raises(ConfigError, match="differ"):
        check_settings(settings(SECRET_KEY=STRONG, JWT_SECRET=STRONG))


def test_production_refuses_low_bcrypt_cost():
    with pytest.raises(ConfigError, match="BCRYPT_ROUNDS"):
        check_settings(settings(SECRET_KEY=STRONG, JWT_SECRET="y" * 48, BCRYPT_ROUNDS="10"))


def test_production_accepts_strong_secrets():
    check_settings(settings(SECRET_KEY=STRONG, JWT_SECRET="y" * 48, PUBLIC_BASE_URL="https://flowdeck.example.com"))


def test_production_refuses_to_start_without_public_base_url():
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        check_settings(settings(SECRET_KEY=STRONG, JWT_SECRET="y" * 48))


@pytest.mark.parametrize("raw", ["flowdeck.example.com", "ftp://flowdeck.example.com", "https://h/?next=x"])
def test_public_base_url_must_be_a_plain_http_address(raw):
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        settings(PUBLIC_BASE_URL=raw)


def test_public_base_url_loses_its_trailing_slash_and_defaults_to_the_local_console_outside_production():
    assert settings(PUBLIC_BASE_URL="https://h.example/flowdeck/")["PUBLIC_BASE_URL"] == "https://h.example/flowdeck"
    assert settings(FLOWDECK_ENV="development")["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_development_allows_missing_secrets():
    check_settings(settings(FLOWDECK_ENV="development"))


def test_session_cookie_is_secure_in_production_only():
    assert settings()["SESSION_COOKIE_SECURE"] is True
    assert settings(FLOWDECK_ENV="development")["SESSION_COOKIE_SECURE"] is False
