"""``python -m devkit.try_bot``: a newcomer sees the bot's real replies without a Telegram token."""

from __future__ import annotations

from devkit import try_bot
from devkit.photos import digit, jpeg, on_paper


def test_photos_get_the_bots_replies_printed_and_its_pictures_saved(tmp_path, mnist_test, capsys):
    seven, number = tmp_path / "seven.jpg", tmp_path / "number.jpg"
    seven.write_bytes(jpeg(on_paper([digit(mnist_test, 7)])))
    number.write_bytes(jpeg(on_paper([digit(mnist_test, d) for d in (4, 0, 2)])))
    assert try_bot.main([str(seven), str(number), "--language", "es", "--out", str(tmp_path / "replies")]) == 0
    printed = capsys.readouterr().out
    first, second = printed.split(f"--- {number}")
    assert "Leo: 7" in first and "[7]" in first, "the reply in the sender's language, with the digit keypad"
    assert "Leo: 402" in second and "<b>" not in second
    assert (tmp_path / "replies" / "2-number.jpg").stat().st_size > 0, "the boxed picture of a number, saved"


def test_a_missing_file_is_named_and_nothing_is_sent(tmp_path, capsys):
    assert try_bot.main([str(tmp_path / "nowhere.jpg")]) == 1
    assert "not a file:" in capsys.readouterr().err
