"""What every ``otalign`` command shares: the Typer app, the consoles, one-line errors, option
types declared once, and ``main``, which turns whatever escapes into one line and an exit code."""

from __future__ import annotations

import math
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.text import Text

from otalign_cli import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="otalign: forced alignment of speech with optimal transport (OTTC), compared with CTC.")
# piped or captured output (files, CI logs) gets a wide console so tables never truncate numbers
# markup off: paths, words and messages print as they are ("[laughs].wav", "otalign[ray]")
out_console = Console(width=None if sys.stdout.isatty() else 160, markup=False)
err_console = Console(stderr=True, markup=False)


def error_line(message: str) -> Text:
    return Text.assemble(("error:", "bold red"), " " + message)


from otalign_cli.formats import FORMATS, PHONE_SETS, OutputOptions  # noqa: E402,F401  (no torch: cheap; OutputOptions for the verbs)
from otalign_cli.alignment.readouts import DEFAULT_PASSES, DEFAULT_READOUT, READOUTS  # noqa: E402,F401  (no torch either)
from otalign_cli.encoders import ENCODERS  # noqa: E402  (nor here)
from otalign_cli.text.languages import REGISTRY as LANGUAGES  # noqa: E402  (nor here)
from otalign_cli.losses import LOSSES  # noqa: E402  (nor here)


def _formats(values: list[str]) -> list[str]:
    """``-f textgrid -f json`` or ``-f textgrid,json``: the registered formats named, once each."""
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise typer.BadParameter(f"{(unknown or values)[0]!r} is not one of {', '.join(map(repr, FORMATS))}")
    return list(dict.fromkeys(names))


FormatOption = Annotated[list[str], typer.Option(
    "--format", "-f", metavar="FORMAT", callback=_formats,
    help=f"Output format: {', '.join(FORMATS)}; repeat it or separate with commas for several.")]
PhoneSet = Enum("PhoneSet", {name: name for name in PHONE_SETS}, type=str)


def _checked(value: float | None, ok, what: str) -> float | None:
    if value is not None and not (math.isfinite(value) and ok(value)):
        raise typer.BadParameter(f"must be {what}, not {value}")
    return value


def _positive(value: float | None) -> float | None:
    return _checked(value, lambda v: v > 0, "a positive number")


def _non_negative(value: float | None) -> float | None:
    return _checked(value, lambda v: v >= 0, "a number >= 0")


def _negative(value: float | None) -> float | None:
    return _checked(value, lambda v: v < 0, "a negative number")


# options align and batch share, declared once
DictionaryOption = Annotated[Optional[Path], typer.Option("--dictionary", help="Pronunciation dictionary (MFA format: WORD PHONE ...); its entries come before CMUdict's.")]
PhoneSetOption = Annotated[PhoneSet, typer.Option("--phone-set", help="Phone labels in the outputs: arpabet (the models' own) or ipa.")]
OriginalTextOption = Annotated[bool, typer.Option("--include-original-text", help="TextGrid/EAF/JSON: add an utterances tier with the transcript as written.")]
MaxLineCharsOption = Annotated[int, typer.Option("--max-line-chars", min=1, help="Subtitles (srt, vtt): characters per line.")]
MaxCueLinesOption = Annotated[int, typer.Option("--max-cue-lines", min=1, help="Subtitles: lines per cue.")]
MaxCueSecondsOption = Annotated[float, typer.Option("--max-cue-seconds", callback=_positive, help="Subtitles: longest cue in seconds.")]
SuspectThresholdOption = Annotated[Optional[float], typer.Option("--suspect-threshold", callback=_negative, help="Suspect stretches: a frame whose phone scores below this (log-probability under the most likely phone's) does not support it; default -3 (-2.75, -2.5: more wrong transcripts found, more correct ones flagged).")]
SuspectMinSecondsOption = Annotated[Optional[float], typer.Option("--suspect-min-seconds", callback=_positive, help="Suspect stretches: the shortest reported, in seconds (default 0.6; the detector's window, 0.3 s, is the floor).")]


Readout = Enum("Readout", {name: name for name in READOUTS}, type=str)  # the registry's, in its order
Encoder = Enum("Encoder", {name: name for name in ENCODERS}, type=str)
Language = Enum("Language", {code: code for code in LANGUAGES}, type=str)
LossName = Enum("LossName", {name: name for name in LOSSES}, type=str)


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


# options the aligning verbs share, declared once
ModelOption = Annotated[Optional[Path], typer.Option("--model", help="OTTC checkpoint (default: the bundled English model).")]
CtcModelOption = Annotated[Optional[Path], typer.Option("--ctc-model", help="CTC twin checkpoint for the comparison (default: the bundled one).")]
CtcOption = Annotated[bool, typer.Option("--ctc/--no-ctc", help="Also align with the CTC twin (ctc-* tiers) and report the label delay.")]
ReadoutOption = Annotated[Readout, typer.Option("--readout", help="How OT times are read out (see docs/readouts.md).")]
PassesOption = Annotated[int, typer.Option("--passes", min=1, help="Encoder passes, shifted by 10 ms, averaged by the refine readout (1: faster).")]
BoundariesOption = Annotated[bool, typer.Option("--boundaries/--no-boundaries", help="Refine readout: let the model's boundary model move each boundary (if it has one).")]
FramesOption = Annotated[bool, typer.Option("--frames/--no-frames", help="Refine readout: let the model's frame model re-segment the alignment (if it has one).")]
VariantsOption = Annotated[bool, typer.Option("--variants/--no-variants", help="Let the audio choose among a word's dictionary pronunciations and weak forms (the choices are reported).")]
DeviceOption = Annotated[Device, typer.Option("--device", help="Where the models run.")]


MAX_PLOT_SECONDS = 60.0  # a longer window is unreadable and its spectrogram costs GBs
MIN_PLOT_SECONDS = 0.05  # the spectrogram needs a few of its 32 ms analysis frames


class Backend(str, Enum):
    local = "local"
    ray = "ray"


class Terminated(BaseException):  # like KeyboardInterrupt: no per-file handler may swallow it
    """SIGTERM, turned into an exception so a batch can stop cleanly and say how to resume."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(error_line(message), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        out_console.print(f"otalign {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Forced alignment of speech with optimal transport."""


def _can_write(path: Path) -> None:
    """Fail now, not after hours of training, when ``path`` cannot be written."""
    if path.is_dir():
        fail(f"{path}: is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        fail(f"{path}: cannot write here ({'a parent is a file' if isinstance(err, (FileExistsError, NotADirectoryError)) else err.strerror})")
    if not os.access(path.parent, os.W_OK):
        fail(f"{path}: cannot write here (the folder is not writable)")


def _device(device: str) -> str:
    """The device to run on; asking for a GPU that is not there is a usage error (exit 2)."""
    from otalign_cli.devices import resolve_device

    try:
        return resolve_device(device)
    except ValueError as err:
        fail(str(err), code=2)


def _check_passes(passes: int, model) -> None:
    """A bad --passes is a usage error (exit 2), found once the model's frame is known."""
    from otalign_cli.inference import check_passes

    try:
        check_passes(passes, model)
    except ValueError as err:
        fail(str(err), code=2)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except OSError as err:  # the system refused a path the checks did not foresee: still one line
        where = err.filename if err.filename is not None else "otalign"
        err_console.print(error_line(f"{where}: {err.strerror or err}"), highlight=False, soft_wrap=True)
        sys.exit(1)
    except Exception as err:  # a bug: one line by default, the traceback with OTALIGN_DEBUG=1
        if os.environ.get("OTALIGN_DEBUG"):
            raise
        err_console.print(error_line(f"internal error ({type(err).__name__}: {str(err)[:300]}); "
                                     "rerun with OTALIGN_DEBUG=1 for the traceback and please report it"),
                          highlight=False, soft_wrap=True)
        sys.exit(1)
