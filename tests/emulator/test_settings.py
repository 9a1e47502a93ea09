"""The emulator's settings from the environment."""
import pytest

from shop.config import ConfigError, settings_from_env


def test_retry_delays_default_to_a_few_seconds():
    assert settings_from_env({})["MIDTRANS_EMULATOR_RETRY_DELAYS"] == (1.0, 2.0, 3.0, 5.0, 8.0)


def test_retry_delays_are_read_as_seconds():
    settings = settings_from_env({"MIDTRANS_EMULATOR_RETRY_DELAYS": "0.5, 30"})
    assert settings["MIDTRANS_EMULATOR_RETRY_DELAYS"] == (0.5, 30.0)


@pytest.mark.parametrize("text", ["1,,2", "soon", "1,-2"])
def test_bad_retry_delays_stop_the_start_with_the_setting_named(text):
    with pytest.raises(ConfigError, match="MIDTRANS_EMULATOR_RETRY_DELAYS"):
        settings_from_env({"MIDTRANS_EMULATOR_RETRY_DELAYS": text})


def test_the_emulator_record_lives_under_instance_by_default():
    assert settings_from_env({})["MIDTRANS_EMULATOR_DB"].endswith("instance/midtrans-emulator.sqlite3")
