"""The map symbol a TAK device's CoT type stands for: an APP-6 / MIL-STD-2525 symbol
identification code (SIDC), which the map draws with milsymbol (web/frontend/src/symbols.js).
What a manager may set is checked by models/convoy_shapes.py's `valid_sidc`."""

from __future__ import annotations

# CoT's affiliation letters (the second atom of "a-f-G-…") as 2525's; "o" (none) and "x"
# (other) are drawn as unknown.
COT_AFFILIATIONS = dict(zip("fhnupasjkox", "FHNUPASJKUU", strict=True))
COT_DIMENSIONS = frozenset("PAGSUF")


def sidc_of_cot(cot_type: str) -> str | None:
    """The 2525C SIDC of a CoT atom type ("a-f-G-U-C-I" → "SFGPUCI--------"), or None for a
    type that names no symbol (not an atom, no battle dimension, a function atom longer than
    one letter)."""
    atoms = cot_type.split("-")
    if len(atoms) < 3 or atoms[0] != "a" or atoms[1] not in COT_AFFILIATIONS:
        return None
    if atoms[2] not in COT_DIMENSIONS:
        return None
    function = atoms[3:]
    if len(function) > 6 or any(len(atom) != 1 or not atom.isalnum() for atom in function):
        return None
    code = "".join(function).upper().ljust(6, "-")
    return f"S{COT_AFFILIATIONS[atoms[1]]}{atoms[2]}P{code}-----"
