"""Subtitles: SubRip (.srt) and WebVTT (.vtt) cues made of whole words.

A cue ends at a sentence end, before a pause longer than ``MAX_GAP``, where the speaker
changes, or where one more word would break the limits (``OutputOptions``: characters per line,
lines per cue, seconds per cue). WebVTT cues carry each word's start as an inline timestamp
(karaoke-style highlighting in players that support it) and the speaker as a voice span.
When the transcript was itself subtitles (``text.cues``), its cues are kept as written, lines
and all, each retimed from its first word's start to its last word's end; a cue without words
("♪") is moved as the cue with words before it was, keeping its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from otalign_cli.formats import OutputContext, OutputFormat, OutputOptions, register

if TYPE_CHECKING:
    from otalign_cli.results import FileResult, Segment

MAX_GAP = 1.0  # s: a longer pause between two words starts a new cue
ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "sr.", "jr.", "vs.", "etc.", "e.g.", "i.e.",
                           "no.", "mt.", "ft.", "gen.", "capt.", "rev.", "col.", "lt.", "sgt.", "co.", "inc.", "ltd."})


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    words: tuple[Segment, ...]
    speaker: str = ""
    written: tuple[str, ...] = ()  # the lines as the transcript's own cue had them

    def lines(self, opts: OutputOptions) -> list[tuple[Segment, ...]]:
        """The words on as few lines as hold them, with the lines as even as they can be."""
        if self.written:
            return []
        texts = [_text(w) for w in self.words]
        n_lines = 1
        while not _fits(texts, opts, n_lines) and n_lines < len(texts):
            n_lines += 1
        if n_lines == 1:
            return [self.words]
        # the most even split into n_lines lines: smallest longest line, found over all cut points
        best: tuple[int, list[int]] | None = None

        def search(start: int, left: int, cuts: list[int]) -> None:
            nonlocal best
            if left == 1:
                widths = [len(" ".join(texts[a:b])) for a, b in zip([0, *cuts], [*cuts, len(texts)])]
                if best is None or max(widths) < best[0]:
                    best = (max(widths), list(cuts))
                return
            for k in range(start + 1, len(texts) - left + 2):
                search(k, left - 1, [*cuts, k])

        search(0, n_lines, [])
        assert best is not None
        bounds = list(zip([0, *best[1]], [*best[1], len(texts)]))
        return [self.words[a:b] for a, b in bounds]


def _text(w: Segment) -> str:
    return w.text or w.label


def _fits(texts: list[str], opts: OutputOptions, max_lines: int | None = None) -> bool:
    """Do these words fill at most ``max_lines`` lines of ``max_line_chars`` (greedy wrap)?

    A single word longer than a line is let through on a line of its own: words are never cut.
    """
    lines, width = 1, -1
    for t in texts:
        if width >= 0 and width + 1 + len(t) > opts.max_line_chars:
            lines, width = lines + 1, len(t)
        else:
            width += 1 + len(t)
    return lines <= (opts.max_cue_lines if max_lines is None else max_lines)


def _ends_sentence(word: Segment, following: Segment) -> bool:
    """Does a sentence end after ``word``? "?" and "!" always; "." unless an abbreviation
    ("Mr.") or before a word in lower case."""
    text = _text(word).rstrip("\"'”’)]")
    if text.endswith(("?", "!", "…")):
        return True
    if not text.endswith(".") or text.lower() in ABBREVIATIONS:
        return False
    return _text(following)[:1].isupper() or not _text(following)[:1].isalpha()


def make_cues(words: list[Segment], opts: OutputOptions) -> list[Cue]:
    """Group words (in time order) into cues within the limits of ``opts``."""
    cues: list[Cue] = []
    current: list[Segment] = []

    def close() -> None:
        if current:
            cues.append(Cue(current[0].start, current[-1].end, tuple(current), current[0].speaker))
            current.clear()

    for w in sorted(words, key=lambda w: w.start):
        if current:
            prev = current[-1]
            if (w.speaker != prev.speaker or w.start - prev.end > MAX_GAP or _ends_sentence(prev, w)
                    or w.end - current[0].start > opts.max_cue_seconds
                    or not _fits([_text(x) for x in current] + [_text(w)], opts)):
                close()
        current.append(w)
    close()
    return cues


def retimed_cues(res: FileResult) -> list[Cue]:
    """The transcript's own cues, each spanning its words as aligned."""
    spans, i = [], 0
    for c in res.cues:
        n = sum(c.words)
        spans.append(tuple(res.ot.words[i:i + n]))
        i += n
    # how far the subtitles' clock is off, at each cue with words
    shifts = [w[0].start - c.start if w else None for c, w in zip(res.cues, spans)]
    out: list[Cue] = []
    for k, (c, words) in enumerate(zip(res.cues, spans)):
        if words:
            out.append(Cue(words[0].start, words[-1].end, words, written=c.lines))
            continue
        # moved as the nearest cue with words before it was (after it, for the first ones)
        shift = next((x for x in reversed(shifts[:k]) if x is not None),
                     next((x for x in shifts[k + 1:] if x is not None), 0.0))
        start = min(max(c.start + shift, 0.0), res.duration)
        end = min(max(c.end + shift, start + 0.001), max(res.duration, start + 0.001))
        out.append(Cue(start, end, (), written=c.lines))
    return out


def _cues(res: FileResult, opts: OutputOptions) -> list[Cue]:
    return retimed_cues(res) if res.cues else make_cues(res.ot.words, opts)


def _ms(t: float) -> int:
    return max(0, round(t * 1000))


def _stamp(t: float, sep: str) -> str:
    ms = _ms(t)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt_text(cues: list[Cue], opts: OutputOptions) -> str:
    blocks = []
    for i, c in enumerate(cues, 1):
        lines = list(c.written) or [" ".join(_text(w) for w in line) for line in c.lines(opts)]
        if c.speaker:
            lines[0] = f"{c.speaker}: {lines[0]}"
        blocks.append(f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n" + "\n".join(lines) + "\n")
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_text(cues: list[Cue], opts: OutputOptions) -> str:
    out = ["WEBVTT", ""]
    for i, c in enumerate(cues, 1):
        rendered = []
        for line in c.lines(opts):
            parts = []
            for w in line:
                # each word's start, strictly inside the cue as the spec requires (the first is the cue's)
                stamp = f"<{_stamp(w.start, '.')}>" if _ms(c.start) < _ms(w.start) < _ms(c.end) else ""
                parts.append(stamp + _vtt_escape(_text(w)))
            rendered.append(" ".join(parts))
        rendered += [_vtt_escape(line) for line in c.written]  # as written: no word stamps to place
        if c.speaker:
            rendered[0] = f"<v {_vtt_escape(c.speaker)}>" + rendered[0]
        out += [str(i), f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}", *rendered, ""]
    return "\n".join(out)


def _render_srt(res: FileResult, ctx: OutputContext):
    return (srt_text(_cues(res, ctx.options), ctx.options),)


def _render_vtt(res: FileResult, ctx: OutputContext):
    return (vtt_text(_cues(res, ctx.options), ctx.options),)


register(OutputFormat("srt", (".srt",), _render_srt, "SubRip subtitles: cues of whole words"))
register(OutputFormat("vtt", (".vtt",), _render_vtt, "WebVTT subtitles: cues of whole words, each word's start inline"))
