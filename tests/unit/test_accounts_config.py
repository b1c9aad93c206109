"""Account settings: documented defaults, and junk refused at boot with the variable's name."""
import pytest

from webapp.config import ConfigError, load_settings


def settings(**env):
    return load_settings(env, "/tmp/instance")


def test_account_defaults_match_the_readme():
    config = settings()
    assert (config["LOCKOUT_THRESHOLD"], config["LOCKOUT_MINUTES"]) == (5, 30)
    timeouts = (config["SESSION_IDLE_MINUTES"], config["SESSION_ABSOLUTE_HOURS"], config["REFRESH_TOKEN_DAYS"])
    assert timeouts == (30, 12, 14)
    assert config["RATE_LIMITS"] == {"login": 10, "register": 5, "refresh": 30, "verify": 5, "password": 5,
                                     "admin": 300}


def test_rate_limits_are_read_per_action():
    assert settings(RATE_LIMIT_REFRESH="7")["RATE_LIMITS"]["refresh"] == 7


@pytest.mark.parametrize(("name", "raw"), [("RATE_LIMIT_LOGIN", "lots"), ("RATE_LIMIT_VERIFY", "0"),
                                           ("LOCKOUT_THRESHOLD", "0"), ("LOCKOUT_MINUTES", "half an hour"),
                                           ("SESSION_IDLE_MINUTES", "-5"), ("EMAIL_TOKEN_HOURS", "")])
def test_junk_account_settings_stop_the_boot(name, raw):
    with pytest.raises(ConfigError, match=name):
        settings(**{name: raw})
