"""The config file: located errors, `voicecoach config`, and the command line winning over the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.files import BAD_CONFIGS as BAD
from hypothesis import given, settings
from hypothesis import strategies as st

from voicecoach.cli import cli
from voicecoach.cli.common import CONFIGURED
from voicecoach.core import configrules
from voicecoach.core.configedit import set_in_text, unset_in_text
from voicecoach.core.configrules import ConfigError, parse_config
from voicecoach.errors import ExitStatus
from voicecoach.store.configfile import load

# fixture -> every problem expected, as (line, column, the message)
EXPECTED = {
    "01_syntax.toml": [(3, 9, "not valid TOML: invalid value")],
    "02_unknown_key.toml": [(1, 1, "unknown key 'raet'; did you mean 'rate'?")],
    "03_wrong_type.toml": [(1, 8, "rate must be a number, not 'fast'")],
    "04_out_of_range.toml": [(1, 10, "volume 1.5 is out of range")],
    "05_bad_choice.toml": [(1, 10, "engine must be one of system, piper, not 'pipr'; did you mean 'piper'?")],
    "06_table.toml": [(3, 1, "unknown key 'play'")],
    "07_duplicate_key.toml": [(2, 1, "duplicate key 'rate'")],
    "08_text_not_bool.toml": [(1, 11, "earcons must be true or false, not 'no'")],
    "09_fractional_rate.toml": [(1, 8, "rate must be a whole number, not 150.5")],
    "10_empty_text.toml": [(1, 9, "voice must be non-empty text")],
    "11_many_problems.toml": [
        (2, 20, "cache_limit_mb -1 is out of range"),
        (3, 1, "unknown key 'wakeword'; did you mean 'wake_word'?"),
        (4, 9, "mpris must be true or false, not 0"),
    ],
    "12_not_utf8.toml": [(1, 13, "the file is not UTF-8 text")],
    "13_device_bool.toml": [(1, 10, "device must be a number or a name, not true")],
    "14_unterminated.toml": [(1, 18, "not valid TOML: illegal character '\\n'")],
    "15_music_not_a_list.toml": [(1, 9, "music must be a list of paths, not 'walk.mp3'")],
    "16_music_item.toml": [(2, 9, "music's item 2 must be text (a path), not 3")],
}


@pytest.fixture
def conf(tmp_path, monkeypatch) -> Path:
    """The config file's path for this test (not created)."""
    path = tmp_path / "conf" / "config.toml"
    monkeypatch.setenv("VOICECOACH_CONFIG", str(path))
    return path


def test_every_fixture_has_expectations():
    assert sorted(p.name for p in BAD.glob("*.toml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda n: n[:-5])
def test_bad_config_is_located(name: str):
    with pytest.raises(ConfigError) as info:
        load(BAD / name)
    assert [(p.line, p.column, p.message) for p in info.value.problems] == EXPECTED[name]
    assert info.value.exit_status == 3


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda n: n[:-5])
@pytest.mark.parametrize("command", [("show", "--estimate"), ("config",)], ids=["show", "config"])
def test_bad_config_stops_the_command_with_exit_code_3(run, monkeypatch, name, command):
    monkeypatch.setenv("VOICECOACH_CONFIG", str(BAD / name))
    result = run(*command)
    line, column, message = EXPECTED[name][0]
    assert result.exit_code == ExitStatus.INVALID_CONFIG == 3
    assert result.output.startswith(f"voicecoach: error: {BAD / name}:{line}:{column}: {message}\n")
    assert "Traceback" not in result.output


def test_unknown_key_message_in_full(run, monkeypatch):
    path = BAD / "02_unknown_key.toml"
    monkeypatch.setenv("VOICECOACH_CONFIG", str(path))
    assert run("show", "--estimate").output == (
        f"voicecoach: error: {path}:1:1: unknown key 'raet'; did you mean 'rate'?\n"
        "    raet = 160\n"
        "    ^\n"
        "    valid keys: engine, voice, rate, volume, language, level, loudness, earcons, device, listen, mic, "
        "wake_word, wake_sensitivity, mpris, remote, music, cache_limit_mb\n"
        f"1 problem in {path}\n"
    )


def test_commands_that_do_not_use_the_file_work_whatever_it_holds(run, monkeypatch):
    monkeypatch.setenv("VOICECOACH_CONFIG", str(BAD / "01_syntax.toml"))
    assert run("programs").exit_code == 0
    assert run("config", "path").output == f"{BAD / '01_syntax.toml'}\n"


def test_music_paths_are_from_the_config_files_folder_and_home(conf, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    conf.parent.mkdir()
    conf.write_text('music = ["songs/walk.mp3", "~/Music", "/abs/a.ogg"]\n')
    assert load().get("music") == (
        str(conf.parent / "songs" / "walk.mp3"),
        str(tmp_path / "home" / "Music"),
        "/abs/a.ogg",
    )


def test_music_from_the_config_is_checked_before_any_work_and_the_command_line_wins(run, conf, tmp_path, capfd):
    conf.parent.mkdir()
    conf.write_text('music = ["gone.mp3"]\n')
    out = tmp_path / "x.mp3"
    result = run("export", "tiny", "-o", str(out))
    assert result.exit_code == ExitStatus.MUSIC == 7
    assert result.output == f"voicecoach: error: music file {conf.parent / 'gone.mp3'} does not exist.\n"
    result = run("export", "tiny", "--music", str(tmp_path / "other.mp3"), "-o", str(out))
    assert result.output == f"voicecoach: error: music file {tmp_path / 'other.mp3'} does not exist.\n"
    result = run("play", "tiny")  # play too: before the session
    assert result.exit_code == 7 and "gone.mp3 does not exist." in result.output + capfd.readouterr().err
    assert not out.exists()


def test_config_set_music_writes_a_list(run, conf):
    assert run("config", "set", "music", "~/Music/walk.mp3").exit_code == 0
    assert conf.read_text() == 'music = ["~/Music/walk.mp3"]\n'


# -- voicecoach config ---------------------------------------------------------------

DEFAULTS_SHOWN = [
    "engine: automatic, piper when installed, else system (default)",
    "voice: the engine's default voice (default)",
    "rate: the voice's own pace (default)",
    "volume: 1 (default)",
    "language: any (default)",
    "level: auto (default)",
    "loudness: -16 (default)",
    "earcons: true (default)",
    "device: the system's default output (default)",
    "listen: false (default)",
    "mic: the system's default microphone (default)",
    "wake_word: none (default)",
    "wake_sensitivity: high (default)",
    "mpris: true (default)",
    "remote: false (default)",
    "music: no music (default)",
    "cache_limit_mb: 500 (default)",
]


def test_config_without_a_file(run, conf):
    result = run("config")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"config file: {conf} (from VOICECOACH_CONFIG; not created yet)",
        *DEFAULTS_SHOWN,
    ]


def test_config_shows_where_each_value_comes_from(run, conf):
    conf.parent.mkdir()
    conf.write_text('# mine\nrate = 150\nvoice = "en-gb"\nearcons = false\ndevice = 3\ncache_limit_mb = 80\n')
    lines = run("config").output.splitlines()
    assert lines[0] == f"config file: {conf} (from VOICECOACH_CONFIG)"
    changed = {
        "voice": "voice: en-gb (config file)",
        "rate": "rate: 150 (config file)",
        "earcons": "earcons: false (config file)",
        "device": "device: 3 (config file)",
        "cache_limit_mb": "cache_limit_mb: 80 (config file)",
    }
    assert lines[1:] == [changed.get(line.split(":")[0], line) for line in DEFAULTS_SHOWN]


def test_config_path(run, conf):
    assert run("config", "path").output == f"{conf}\n"


def test_config_set_creates_then_rewrites_keeping_comments(run, conf):
    result = run("config", "set", "rate", "160")
    assert result.exit_code == 0
    assert result.output == f"rate: 160 (written to {conf})\n"
    assert conf.read_text() == "rate = 160\n"
    conf.write_text('# my settings\nrate = 160  # a bit slow\n\nlevel = "mid"\n')
    assert run("config", "set", "rate", "175").exit_code == 0
    assert run("config", "set", "voice", 'My "quoted" voice').exit_code == 0
    assert run("config", "set", "earcons", "off").output == f"earcons: false (written to {conf})\n"
    assert conf.read_text() == (
        '# my settings\nrate = 175  # a bit slow\n\nlevel = "mid"\nvoice = "My \\"quoted\\" voice"\nearcons = false\n'
    )
    assert load().values == {"rate": 175, "level": "mid", "voice": 'My "quoted" voice', "earcons": False}
    assert [p.name for p in conf.parent.iterdir()] == ["config.toml"]  # no part file left


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "raet",
            "160",
            "voicecoach: error: unknown key 'raet'; did you mean 'rate'?\nvalid keys: engine, voice, "
            "rate, volume, language, level, loudness, earcons, device, listen, mic, wake_word, "
            "wake_sensitivity, mpris, remote, music, cache_limit_mb\n",
        ),
        (
            "rate",
            "fast",
            "voicecoach: error: rate must be a number, not 'fast'\n"
            "rate must be a whole number of words per minute from 80 to 400\n",
        ),
        ("volume", "2", "voicecoach: error: volume 2 is out of range\nvolume must be a number from 0 to 1\n"),
        (
            "level",
            "hgh",
            "voicecoach: error: level must be one of auto, low, mid, high, not 'hgh'; did you mean 'high'?\n",
        ),
        (
            "mpris",
            "maybe",
            "voicecoach: error: mpris must be true or false, not 'maybe'\n"
            "mpris: true or false (appear as a media player on Linux)\n",
        ),
    ],
    ids=["unknown-key", "not-a-number", "out-of-range", "bad-choice", "not-a-bool"],
)
def test_config_set_refuses_bad_values(run, conf, key, value, message):
    conf.parent.mkdir()
    conf.write_text("rate = 150\n")
    result = run("config", "set", key, value)
    assert result.exit_code == ExitStatus.USAGE
    assert result.output == message
    assert conf.read_text() == "rate = 150\n"


def test_a_file_with_several_problems_is_mended_one_key_at_a_time(run, conf):
    conf.parent.mkdir()
    conf.write_text("raet = 150\nrate = 1000\n")
    result = run("config", "set", "rate", "150")
    assert result.exit_code == 3  # written, and what is still wrong is said
    assert result.output == (
        f"rate: 150 (written to {conf})\n"
        f"voicecoach: error: {conf}:1:1: unknown key 'raet'; did you mean 'rate'?\n"
        "    raet = 150\n    ^\n"
        f"    valid keys: {', '.join(configrules.KEYS)}\n"
        f"1 problem in {conf}\n"
    )
    assert conf.read_text() == "raet = 150\nrate = 150\n"
    result = run("config", "unset", "raet")
    assert (result.exit_code, result.output) == (0, f"raet: removed from {conf}\n")
    assert conf.read_text() == "rate = 150\n"


@pytest.mark.parametrize("command", [("set", "rate", "100"), ("unset", "rate")], ids=["set", "unset"])
def test_an_edit_that_would_change_anything_else_writes_nothing(run, conf, command):
    conf.parent.mkdir()
    # "rate = 90" inside a multi-line string is text, not the setting: a line edit there would change the voice.
    text = 'voice = """a\nrate = 90\n"""\n'
    conf.write_text(text)
    result = run("config", *command)
    assert result.exit_code == 1
    assert result.output == (
        f"voicecoach: error: cannot change rate in {conf} safely: the file is laid out "
        "in a way a one-line edit does not handle\nchange it in a text editor\n"
    )
    assert conf.read_text() == text


def test_config_unset(run, conf):
    conf.parent.mkdir()
    conf.write_text('level = "high"\n# keep me\nrate = 150\n')
    assert run("config", "unset", "rate").output == f"rate: the voice's own pace (default; removed from {conf})\n"
    assert run("config", "unset", "level").output == f"level: auto (default; removed from {conf})\n"
    assert run("config", "unset", "level").output == f"level is not set in {conf}\n"
    assert conf.read_text() == "# keep me\n"


def test_config_set_through_a_symbolic_link_keeps_the_link(run, conf, tmp_path):
    real = tmp_path / "dotfiles" / "voicecoach.toml"
    real.parent.mkdir()
    real.write_text("rate = 150\n")
    conf.parent.mkdir()
    conf.symlink_to(real)
    assert run("config", "set", "level", "mid").exit_code == 0
    assert conf.is_symlink()
    assert real.read_text() == 'rate = 150\nlevel = "mid"\n'


# -- the command line wins --------------------------------------------------------------


def _duration(run, *args: str) -> float:
    result = run("show", "inner-knee", "--estimate", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["duration_s"]


def test_the_command_line_beats_the_config_file(run, conf):
    low, high = _duration(run), _duration(run, "--level", "high")
    assert high > low
    conf.parent.mkdir()
    conf.write_text('level = "high"\n')
    assert _duration(run) == high  # the file's value is the default...
    assert _duration(run, "--level", "low") == low  # ...and the command line wins


def test_help_shows_the_defaults_in_effect(run, conf):
    assert "[default: earcons]" in run("export", "--help").output
    conf.parent.mkdir()
    conf.write_text("earcons = false\nmpris = false\nloudness = -20\n")
    export_help = run("export", "--help").output
    assert "[default: no-earcons]" in export_help and "[default: -20.0;" in export_help
    assert "[default: no-mpris]" in run("play", "--help").output


def test_option_defaults_are_the_config_defaults():
    """One source of defaults: what `voicecoach config` says is what the options do."""
    future = {"listen", "mic", "wake_word"}  # play's coming voice control
    for name, keys in CONFIGURED.items():
        command = cli.commands[name]
        # The values a command gets with no options given (and no config file).
        given = command.make_context(name, ["-o", "x.mp3"] if name == "export" else []).params
        for key in keys:
            if key in future and key not in given:
                continue  # applies once play has the option
            assert key in given, f"{name} has no option for the config key {key}"
            default = configrules.default(key)
            assert given[key] == (() if default is None and key == "music" else default), (name, key)  # a list


# -- editing the text --------------------------------------------------------------------

text_values = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda t: t.strip() and t == t.strip()
)


@settings(max_examples=200, deadline=None)
@given(value=text_values, before=st.sampled_from(["", "# top\n", 'voice = "old"  # c\n', "rate = 90\n\n"]))
def test_any_text_value_survives_a_write_and_a_read(value: str, before: str):
    text = set_in_text(before, "voice", value)
    assert parse_config(text)["voice"] == value
    assert unset_in_text(text, "voice")[0] == before.replace('voice = "old"  # c\n', "")
    if "#" in before:
        assert "# " in text  # the comment stays


def test_set_in_text_goes_before_a_table_and_keeps_line_endings():
    assert set_in_text("rate = 90\r\n[x]\ny = 1\n", "level", "mid") == 'rate = 90\r\nlevel = "mid"\n[x]\ny = 1\n'
    assert set_in_text("rate = 90\r\n", "rate", 100) == "rate = 100\r\n"
    assert set_in_text("rate = 90", "level", "mid") == 'rate = 90\nlevel = "mid"\n'


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("rate", "160", 160),
        ("rate", "160.0", 160),
        ("volume", "0.5", 0.5),
        ("volume", "1", 1.0),
        ("earcons", "yes", True),
        ("mpris", "Off", False),
        ("device", "3", "3"),
        ("voice", " en-gb ", "en-gb"),
        ("cache_limit_mb", "0", 0),
        ("loudness", "-23", -23.0),
    ],
    ids=lambda v: str(v),
)
def test_values_from_the_command_line(key, raw, value):
    got = configrules.from_command_line(key, raw)
    assert got == value and type(got) is type(value)


def test_whole_numbers_where_a_number_is_expected(conf):
    conf.parent.mkdir()
    conf.write_text("volume = 1\nrate = 150.0\n")  # TOML integer for a float, and the other way round
    values = load().values
    assert values == {"volume": 1.0, "rate": 150}
    assert type(values["volume"]) is float and type(values["rate"]) is int
