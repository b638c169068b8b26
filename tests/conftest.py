import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_WAV = ROOT / "examples" / "dashwood.wav"
EXAMPLE_TXT = ROOT / "examples" / "dashwood.txt"
MODELS = ROOT / "models"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "otalign_cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def copy_example(folder: Path) -> tuple[Path, Path]:
    """The shipped example copied into ``folder``, so outputs land there."""
    wav, txt = folder / "dashwood.wav", folder / "dashwood.txt"
    shutil.copy(EXAMPLE_WAV, wav)
    shutil.copy(EXAMPLE_TXT, txt)
    return wav, txt


@pytest.fixture
def example(tmp_path: Path) -> tuple[Path, Path]:
    return copy_example(tmp_path)
