"""Messages written for the editor, said in the command line's words.

Tools (and ``core.toolio``) speak of the editor's selection and mask layers: "make a
selection or choose a mask layer", "Select the area to fill first". On the command line the
same thing is the ``--mask M`` picture (white = where the tool acts). Rather than every tool
knowing where it runs, the CLI passes every message it prints through :func:`for_cli`: the
common phrasings are rewritten, and any other mention of the selection gets a hint.

    for_cli("Inpaint needs a mask: make a selection or choose a mask layer")
    -> "Inpaint needs a mask: pass a mask with --mask M (a picture, white where the tool acts)"
"""

from __future__ import annotations

import re

__all__ = ["MASK_HINT", "for_cli"]

#: appended to a message that still speaks of the selection after the rewrites
MASK_HINT = "(on the command line the selection is the --mask M picture: white where the tool acts)"

_I = re.IGNORECASE
_PASS_MASK = "pass a mask with --mask M (a picture, white where the tool acts)"

# (pattern, replacement), applied in order; a replacement starting with a lower-case letter
# is capitalised where the phrase it replaces was
_REWRITES: list[tuple[re.Pattern[str], str]] = [
    # the editor's other way of giving a mask: there are no layers on the command line
    (re.compile(r"\s*\((?:or )?(?:paint it on|choose|use|pick) a mask layer\)", _I), ""),
    (re.compile(r",?\s+or (?:choose|paint on|paint it on|use|pick) a mask layer\b", _I), ""),
    (re.compile(r"\bmake a selection\b", _I), _PASS_MASK),
    # "Select the area to fill first." / "Select only what should be replaced."
    (re.compile(r"\bselect (only )?((?:the|an?|some) (?:area|region|part)s?\b|what\b)(.*?)(?: first)?(?=[.;!]|$)", _I),
     r"make the --mask picture white \1over \2\3"),
    # "try a smaller picture or selection": a command-line run has no selection to shrink
    (re.compile(r"\s+or (?:a )?(?:smaller )?selection\b", _I), ""),
    (re.compile(r"\b(?:the|a|your) selection\b", _I), "the mask (--mask M)"),
    (re.compile(r"\ba mask layer\b", _I), "a --mask picture"),
]
_SELECTION = re.compile(r"\bselect(?:ion|ed|ing)?\b", _I)
#: a quoted name ('my selection.png'): left as it is
_QUOTED = re.compile(r"""((?<!\w)'[^']*'(?!\w)|(?<!\w)"[^"]*"(?!\w))""")


def for_cli(message: str) -> str:
    """``message`` with the editor's words for a mask replaced by the command line's."""
    text = str(message)
    if not re.search(r"select|mask layer", text, _I):
        return text  # the usual case: nothing to say differently
    parts = _QUOTED.split(text)  # odd items are quoted names
    for i in range(0, len(parts), 2):
        for pattern, repl in _REWRITES:
            parts[i] = pattern.sub(lambda m, r=repl: _keep_case(m, m.expand(r)), parts[i])
    text = "".join(parts)
    if any(_SELECTION.search(p) for p in parts[::2]):
        text = f"{text.rstrip()} {MASK_HINT}"
    return text


def _keep_case(match: re.Match[str], new: str) -> str:
    old = match.group(0).lstrip(" ,(")
    if old[:1].isupper() and new[:1].islower():
        return new[:1].upper() + new[1:]
    return new
