"""Unit-name normalisation for human reports (sources.md, "Name resolution").

Units e-mail Biểu II.06a reports naming themselves in many spellings: NFD or NFC text, old or new
tone-mark placement (`Uỷ`/`Ủy`, `hoà`/`hòa`), upper case, extra spaces, with or without `UBND`.
`name_key` maps all of them to one comparison key; it never guesses between units.
"""

from __future__ import annotations

import re
import unicodedata

# The five Vietnamese tone marks as combining characters. Vowel-quality marks (circumflex, breve,
# horn) are part of the letter and are kept; only the tone's *position* varies between spellings.
_TONES = {"\u0300": "2", "\u0301": "1", "\u0303": "4", "\u0309": "3", "\u0323": "5"}
_SPACES = re.compile(r"\s+")


def _syllable_key(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    tones = [_TONES[c] for c in decomposed if c in _TONES]
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return base + ("~" + "".join(tones) if tones else "")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    return _SPACES.sub(" ", text).strip()


_PREFIXES = tuple(
    " ".join(_syllable_key(w) for w in _fold(p).split(" ")) for p in ("UBND", "Ủy ban nhân dân")
)


def name_key(name: str | None) -> str:
    """Comparison key of a unit name: NFC, tone placement unified, case-folded, spaces collapsed,
    and a leading `UBND` / `Ủy ban nhân dân` removed (the level word after it is kept)."""
    if name is None:
        return ""
    words = [w for w in _fold(name).split(" ") if w]
    key = " ".join(_syllable_key(w) for w in words)
    for prefix in _PREFIXES:
        if key == prefix:
            return key
        if key.startswith(prefix + " "):
            key = key[len(prefix) + 1 :]
            break
    return key


def register_keys(official_name: str | None, aliases: str | None) -> set[str]:
    """All keys under which a register unit can be named: its official name and each `ten_khac` alias."""
    names = [official_name or ""] + [a for a in (aliases or "").split(";")]
    return {k for k in (name_key(n) for n in names) if k}
