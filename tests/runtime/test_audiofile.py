"""Audio files that exist but cannot be played: refused where they are named, the same
way by `router check`, `router prompts`, a start and a live reload."""

from __future__ import annotations

import logging
import os
import wave
from pathlib import Path

import pytest

from router.cli import main
from router.core.errors import MenuFileError
from router.core.loader import load_menu_file
from router.core.model import Prompt
from router.runtime.audiofile import audio_problems
from router.runtime.menustore import MenuStore
from router.runtime.prompts import EspeakSynthesizer, PromptCache
from tests.runtime.test_worker_config import UNREACHABLE, router

MENUS = """\
version: 1
menus:
  main:
    greeting: {{audio: {greeting}, say: "Press 1."}}
    prompt: {{audio: {greeting}}}
    options:
      "1": {{transfer: "tel:+15105550100"}}
"""


def _write_wav(path: Path, samples: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8_000)
        w.writeframes(b"\x10\x20" * samples)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    _write_wav(tmp_path / "good.wav", 4_000)
    _write_wav(tmp_path / "silent.wav", 0)
    (tmp_path / "noise.mp3").write_bytes(os.urandom(3_000))
    (tmp_path / "words.wav").write_text("not a sound file at all\n")
    return tmp_path


def _menus(folder: Path, greeting: str) -> Path:
    path = folder / "menus.yaml"
    path.write_text(MENUS.format(greeting=greeting))
    return path


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("noise.mp3", "invalid data found when processing input"),
        ("words.wav", "invalid data found when processing input"),
        ("silent.wav", "it holds no sound"),
    ],
)
def test_check_refuses_each_place_that_names_a_bad_file(
    folder: Path, name: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _menus(folder, name)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    message = f"error: audio file '{name}' cannot be played: {reason}"
    assert err[:2] == [
        f"{path}:4:23: {message} (use a wav, mp3 or ogg file with sound in it)",
        f"{path}:5:21: {message} (use a wav, mp3 or ogg file with sound in it)",
    ]
    assert err[2] == f"{path}: 2 errors, 0 warnings; the file cannot be used"


def test_check_passes_a_good_file_and_leaves_missing_ones_to_the_checker(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(_menus(folder, "good.wav"))]) == 0
    assert "OK, 1 menu" in capsys.readouterr().out
    missing = _menus(folder, "gone.wav")
    assert audio_problems([Prompt(audio=str(folder / "gone.wav"))]) == []
    assert main(["check", str(missing)]) == 1
    err = capsys.readouterr().err
    assert "audio file 'gone.wav' does not exist" in err and "cannot be played" not in err


async def test_rendering_a_bad_file_is_a_problem_of_the_menu_file(folder: Path) -> None:
    menu_file = load_menu_file(_menus(folder, "noise.mp3")).menu_file
    cache = PromptCache(EspeakSynthesizer())
    with pytest.raises(MenuFileError) as caught:
        await cache.render_all(list(menu_file.prompts()))
    (problem,) = caught.value.problems
    assert problem.code == "bad-audio" and problem.location.line in (4, 5)


def test_a_reload_with_a_bad_file_is_refused_and_the_old_version_kept(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _menus(folder, "good.wav")
    store = MenuStore(path, PromptCache(EspeakSynthesizer()))
    served = store.load().version
    (folder / "good.wav").write_bytes(os.urandom(2_000))  # overwritten by a broken upload
    path.write_text(path.read_text() + "# edited\n")
    with caplog.at_level(logging.ERROR, logger="router.runtime.menustore"):
        assert store.poll() is False
        assert store.poll() is False  # the same broken edit is reported once
    assert store.current.version == served
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2, errors
    assert "changed but was refused; still serving version" in errors[0]
    assert ":4:23: error: audio file 'good.wav' cannot be played" in errors[1]


def test_start_with_a_bad_file_is_the_problem_and_one_sentence(folder: Path) -> None:
    path = _menus(folder, "silent.wav")
    result = router("start", "--menus", str(path), env=UNREACHABLE)
    assert result.returncode == 1
    assert f"{path}:4:23: error: audio file 'silent.wav' cannot be played" in result.stderr
    assert "has errors" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_a_recording_longer_than_the_limit_is_refused_before_it_is_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from router.runtime import audiofile

    monkeypatch.setattr(audiofile, "MAX_RECORDING_S", 1.0)  # a 10-minute file is 10 MB
    _write_wav(tmp_path / "long.wav", 16_000)  # 2 s at 8 kHz
    with wave.open(str(tmp_path / "long32.wav"), "wb") as w:  # 32-bit: decoded by PyAV
        w.setnchannels(1)
        w.setsampwidth(4)
        w.setframerate(8_000)
        w.writeframes(b"\x00\x10\x20\x30" * 16_000)
    _write_wav(tmp_path / "short.wav", 4_000)  # 0.5 s: fine
    for name in ("long.wav", "long32.wav"):
        mf = load_menu_file(_menus(tmp_path, name)).menu_file
        problems = audio_problems(list(mf.prompts()))
        assert problems, name
        for p in problems:
            assert p.message.startswith(f"audio file '{name}' cannot be played: it is ")
            assert p.message.endswith("a recording may last at most 0 minutes")  # 1 s here
            assert p.hint == "cut it to what callers need to hear"
    mf = load_menu_file(_menus(tmp_path, "short.wav")).menu_file
    assert audio_problems(list(mf.prompts())) == []


def test_the_default_recording_limit_is_ten_minutes() -> None:
    from router.runtime.audiofile import MAX_RECORDING_S, TooLong, _too_long

    assert MAX_RECORDING_S == 600
    assert str(_too_long(3_900)) == (
        "it is 65 minutes long; a recording may last at most 10 minutes"
    )
    assert isinstance(_too_long(700), TooLong)
