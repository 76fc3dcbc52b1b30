from __future__ import annotations

import pytest

from runtime.config import load_settings
from runtime.errors import ConfigError


def test_defaults_follow_the_design() -> None:
    settings = load_settings({})
    assert (settings.host, settings.port, settings.data_dir, settings.bots) == ("127.0.0.1", 8080, ".botrt", "./bots")
    assert settings.base_url == "http://127.0.0.1:8080"


def test_values_are_converted_from_strings() -> None:
    settings = load_settings({"BOTRT_PORT": "9000", "BOTRT_PUBLIC_URL": "https://bots.example/", "OTHER": "x"})
    assert settings.port == 9000
    assert settings.base_url == "https://bots.example"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"BOTRT_PORT": "eighty"}, "BOTRT_PORT"),
        ({"BOTRT_PORT": "70000"}, "BOTRT_PORT"),
        ({"BOTRT_LOG_FORMAT": "xml"}, "BOTRT_LOG_FORMAT"),
        ({"BOTRT_LANES": "0"}, "BOTRT_LANES"),
    ],
)
def test_a_bad_variable_is_named_in_the_error(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.variable == variable
    assert variable in str(caught.value)


def test_cli_reports_a_bad_variable_and_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from botrt.cli import main

    monkeypatch.setenv("BOTRT_PORT", "nope")
    assert main(["migrate"]) == 2
    assert "BOTRT_PORT" in capsys.readouterr().err
