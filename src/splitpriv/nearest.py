"""The "did you mean" hint for a mistyped name: a mechanism, a workload, an option.

Used only once a name is known to be wrong, so it never costs a start-up anything: difflib is
imported when a hint is asked for. Returns text for a message; it never raises.
"""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str], prefix: str = "") -> str:
    """`` (did you mean 'NAME'?)`` for the candidate nearest to ``word``, or "" when none is
    near enough. ``prefix`` is put before the name shown (``--`` for a long option)."""
    import difflib

    names = sorted(set(candidates))
    if not word:
        return ""  # nothing typed: nothing is nearest
    if word.lower() in names and word not in names:
        return f" (did you mean '{prefix}{word.lower()}'?)"  # -m SUD

    def likeness(candidate: str) -> float:
        # A misspelt start of a long name counts as much as a whole short one: '--folow' is
        # '--follow-forks' cut short, not '--color'.
        whole = difflib.SequenceMatcher(None, word, candidate).ratio()
        start = difflib.SequenceMatcher(None, word, candidate[: len(word)]).ratio()
        return max(whole, start - 0.05)

    best = max(names, key=likeness, default=None)
    return f" (did you mean '{prefix}{best}'?)" if best and likeness(best) >= 0.6 else ""
