"""The body of a server-side apply: JSON that a YAML parser reads back as the same object."""

from __future__ import annotations

import json
from typing import Any

import yaml

from opstack.runtime.client import apply_body

# The corsDomains of OpNodes gen-0739/gen-0740 in the bad-input run OPSTACK_BAD_INPUT_SEED=4242 at full scale
# (test/integration/reliability/test_bad_input.py): their StatefulSet's apply was refused with "error decoding
# patch: error converting YAML to JSON: yaml: found invalid Unicode character escape code", on every retry.
CORS_DOMAINS = ["\U0009562c\u00fb4\U000f4d7a$", "\u00d7+\u00be", "\U0009562c\u00fb4\U000f4d7a$"]


def test_characters_outside_the_bmp_are_yaml_escapes_not_surrogate_pairs() -> None:
    obj: dict[str, Any] = {"args": [f"--http.corsdomain={','.join(CORS_DOMAINS)}"], "emoji": "\U0001f600"}
    body = apply_body(obj).decode("ascii")  # ASCII throughout
    assert "\\ud" not in body.lower()
    assert "\\U0001f600" in body
    assert yaml.safe_load(body) == obj


def test_other_text_is_plain_json() -> None:
    tricky = {
        "backslash-then-ud83d": "\\ud83d\\ude00",  # text, not escapes: it must stay text
        "escaped-backslash-then-emoji": "\\\U0001f600",
        "bmp": "é中\ud7a3\u2028\x85\x7f",
        "quotes-and-controls": '"q"\n\t\x01',
        "numbers": [1, 2.5, None, True],
    }
    body = apply_body(tricky)
    assert yaml.safe_load(body) == tricky
    no_astral = {k: v for k, v in tricky.items() if k != "escaped-backslash-then-emoji"}
    assert apply_body(no_astral) == json.dumps(no_astral, separators=(",", ":")).encode()
