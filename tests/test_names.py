"""Name resolution keys (sources.md, "Name resolution")."""

import unicodedata

import pytest

from pipelines.lib.names import name_key, register_keys


@pytest.mark.parametrize(
    "sent",
    [
        "UBND huyện Nghi Lộc",
        "Ủy ban nhân dân huyện Nghi Lộc",
        "Uỷ ban nhân dân huyện Nghi Lộc",
        "  ubnd   HUYỆN   nghi lộc ",
        "huyện Nghi Lộc",
        unicodedata.normalize("NFD", "UBND huyện Nghi Lộc"),
    ],
)
def test_spellings_of_one_district_share_a_key(sent):
    assert name_key(sent) == name_key("UBND huyện Nghi Lộc")


def test_old_and_new_tone_placement_are_one():
    assert name_key("UBND xã Hoà Sơn") == name_key("UBND xã Hòa Sơn")
    assert name_key("Thuỷ") == name_key("Thủy")


def test_level_word_keeps_district_and_commune_apart():
    assert name_key("UBND huyện Nghi Lộc") != name_key("UBND xã Nghi Lộc")


def test_different_tones_stay_different():
    # "Hòa" and "Hóa" are different names; only the position of the same tone is unified.
    assert name_key("xã Hòa Sơn") != name_key("xã Hóa Sơn")


def test_ubnd_only_removed_at_the_start():
    assert " ubnd " in name_key("Văn phòng UBND tỉnh")
    assert name_key("Văn phòng UBND tỉnh") != name_key("tỉnh")


def test_register_keys_cover_aliases():
    keys = register_keys("UBND huyện Nghi Lộc", "UBND H. Nghi Lộc; Nghi Lộc")
    assert name_key("huyện Nghi Lộc") in keys
    assert name_key("UBND H. Nghi Lộc") in keys
    assert name_key("Nghi Lộc") in keys
    assert "" not in register_keys("Sở Tư pháp", ";;")
