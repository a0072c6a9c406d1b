#!/usr/bin/env bash
# The one prepared verification of the CUDA path on an NVIDIA GPU (issue 13, item 7).
#
#   bash tools/gpu_check.sh [RESULTS_DIR]        # default benchmarks/results (or $GPU_CHECK_RESULTS)
#
# Needs: an NVIDIA GPU and driver, CuPy (pip install ".[cuda12]" or ".[cuda13]"), a CUDA build
# of torch, pytest (pytest-xdist is used when installed).  Optional: compute-sanitizer.
# Environment: PYTHON (default `python`, else `python3`); OUT: when set, the full log, the step
# outputs and the results are also written under "$OUT" (the log and step outputs as they are
# made, so a run cut short still leaves them).
#
# Steps, in order, each under `timeout` (seconds), clipped to what is left of TOTAL_BUDGET:
#   preflight     45  nvidia-smi, then CuPy + a GPU it can use, torch with CUDA, pytest;
#                     the first thing missing ends the check at once: one line, status 2
#   versions      30  driver, CUDA runtime, CuPy, torch (+ its CUDA), compute capability, device
#   kernels       60  every kernel of kernels/*.cu compiled for float32 and float64:
#                     registers, local memory (spills), shared memory per kernel
#   sanitizer     60  compute-sanitizer memcheck on a tiny case of every kernel (skipped,
#                     not failed, where compute-sanitizer is not installed)
#   tests        210  tests/test_cuda.py, test_cuda_unavailable.py, test_cuda_twins.py with
#                     MINITORCH_CNN_REQUIRE_CUDA=1 and CUPY_TF32 unset; any skip is a failure
#   large-index   75  tools/gpu_large_index.py: kernels exact where indices pass 2^31 (~45 GB)
#   bench        150  benchmarks/bench_gpu.py, 4 models x batch 64 and 256 (20 steps x 5 repeats);
#                     fails if the engine's eval logits differ from PyTorch's (same weights) by > 1e-2
#   report        --  tools/gpu_report.py: RESULTS_DIR/gpu.json, gpu.md, gpu_check.log
# TOTAL_BUDGET = 560 s, so the whole check ends within 10 minutes on an H100/H200.
# The throughput target (DigitCNN at batch 256 >= 0.5x PyTorch) is reported, not judged:
# PASS/FAIL is about correctness.  The last line is `GPU CHECK: PASS` or `GPU CHECK: FAIL`.
#
# No `set -e`: a failing step is recorded and the check goes on to the next one.
set -uo pipefail

TOTAL_BUDGET=${GPU_CHECK_BUDGET:-560}    # seconds; override only to test the check itself
REPORT_RESERVE=20            # seconds kept for writing the report

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS=${1:-${GPU_CHECK_RESULTS:-$REPO/benchmarks/results}}
case $RESULTS in /*) ;; *) RESULTS=$PWD/$RESULTS ;; esac
if [[ -n ${OUT:-} && $OUT != /* ]]; then OUT=$PWD/$OUT; fi
cd "$REPO" || exit 2

fail_now() {                 # the machine cannot run the check: one line, status 2
    echo "GPU CHECK: FAIL: $1"
    if [[ -n ${OUT:-} ]]; then
        mkdir -p "$OUT" && echo "GPU CHECK: FAIL: $1" > "$OUT/gpu_check.log"
    fi
    exit 2
}

# ---- preflight: the first missing thing, in the order the check needs it ----------------
if command -v nvidia-smi > /dev/null 2>&1; then
    if ! smi_list=$(timeout 30 nvidia-smi -L 2>&1); then
        fail_now "nvidia-smi cannot reach a GPU: $(printf '%s\n' "$smi_list" | grep -m1 . || echo 'no output')"
    fi
    if ! grep -q '^GPU ' <<< "$smi_list"; then
        fail_now "no NVIDIA GPU (nvidia-smi lists none)"
    fi
elif [[ ! -e /dev/nvidia0 ]]; then
    fail_now "no NVIDIA GPU (nvidia-smi not found, no /dev/nvidia0)"
fi   # a container without nvidia-smi but with the device: CuPy decides below

PY=${PYTHON:-}
if [[ -z $PY ]]; then
    if command -v python > /dev/null 2>&1; then PY=python; else PY=python3; fi
fi
command -v "$PY" > /dev/null 2>&1 || fail_now "no Python interpreter ($PY not found; set PYTHON)"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"   # this checkout, not an installed copy
export PYTHONUNBUFFERED=1                              # step output reaches the log as it happens
# CuPy keeps compiled kernels under ~/.cupy; where that cannot be written, a temporary folder
if ! mkdir -p "${CUPY_CACHE_DIR:-${HOME:-/nonexistent}/.cupy/kernel_cache}" 2> /dev/null; then
    export CUPY_CACHE_DIR="${TMPDIR:-/tmp}/gpu_check_cupy_cache"
fi

preflight_out=$(timeout 45 "$PY" tools/gpu_probe.py preflight 2>&1)
preflight_rc=$?
if (( preflight_rc != 0 )); then
    reason=$(printf '%s\n' "$preflight_out" | grep -v '^[[:space:]]*$' | tail -n 1)
    (( preflight_rc == 124 )) && reason="the preflight (importing CuPy and torch) took over 45 s"
    fail_now "${reason:-the preflight failed with status $preflight_rc}"
fi

# ---- from here on every step runs, and is recorded ---------------------------------------
if [[ -n ${OUT:-} ]]; then
    WORK=$OUT/gpu_check_work
    rm -rf "$WORK"
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK" || exit 2
LOG=$WORK/gpu_check.log
: > "$WORK/steps.tsv"
FAILED=()

say() { printf '%s\n' "$*" | tee -a "$LOG"; }

record() {                   # name status note: one line of steps.tsv
    local name=$1 status=$2 note=${3:-}
    printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$STEP_SECONDS" "${note//$'\t'/ }" >> "$WORK/steps.tsv"
    if [[ $status == FAIL ]]; then FAILED+=("$name"); fi
    say "-- $name: $status${note:+ ($note)} [${STEP_SECONDS}s]"
}

STEP_SECONDS=0
STEP_NOTE=""
step() {                     # budget command...: run it under timeout, output to the log; its status
    local budget=$1 left rc start
    shift
    left=$(( TOTAL_BUDGET - REPORT_RESERVE - SECONDS ))
    STEP_SECONDS=0
    if (( left < 10 )); then
        STEP_NOTE="not run: the check's time budget is spent"
        return 125
    fi
    (( budget > left )) && budget=$left
    say ""
    say "== $* (limit ${budget}s)"
    start=$SECONDS
    timeout --kill-after=10 "$budget" "$@" 2>&1 | tee -a "$LOG"
    rc=${PIPESTATUS[0]}
    STEP_SECONDS=$(( SECONDS - start ))
    case $rc in
        0) STEP_NOTE="" ;;
        124|137) STEP_NOTE="timed out after ${budget}s" ;;
        *) STEP_NOTE="exit status $rc" ;;
    esac
    return "$rc"
}

say "GPU check of $REPO ($(date -u '+%Y-%m-%d %H:%M UTC')); results to $RESULTS"
say "$preflight_out"
if command -v nvidia-smi > /dev/null 2>&1; then
    timeout 30 nvidia-smi 2>&1 | tee -a "$LOG"
fi

# versions
if step 30 "$PY" tools/gpu_probe.py versions --json "$WORK/versions.json"; then
    record versions ok
else
    record versions FAIL "$STEP_NOTE"
fi

# kernels: compile and resource usage
if step 60 "$PY" tools/gpu_probe.py kernels --json "$WORK/kernels.json"; then
    record kernels ok
else
    record kernels FAIL "$STEP_NOTE"
fi

# compute-sanitizer memcheck on a tiny case (CuPy's pool off inside the case)
SANITIZER=$(command -v compute-sanitizer || true)
if [[ -z $SANITIZER && -x /usr/local/cuda/bin/compute-sanitizer ]]; then
    SANITIZER=/usr/local/cuda/bin/compute-sanitizer
fi
if [[ -z $SANITIZER ]]; then
    STEP_SECONDS=0
    record sanitizer skipped "compute-sanitizer not found"
elif step 60 "$SANITIZER" --tool memcheck --error-exitcode 99 --report-api-errors no --print-limit 20 \
        "$PY" tools/gpu_probe.py sanitize-case; then
    record sanitizer ok
else
    record sanitizer FAIL "$STEP_NOTE"
fi

# the GPU tests: no skip allowed
XDIST=()
if "$PY" -c "import xdist" > /dev/null 2>&1; then
    XDIST=(-n auto)
fi
step 210 env -u CUPY_TF32 MINITORCH_CNN_REQUIRE_CUDA=1 "$PY" -m pytest -q -p no:cacheprovider -rfEs \
    ${XDIST[@]+"${XDIST[@]}"} --junitxml "$WORK/tests.xml" \
    tests/test_cuda.py tests/test_cuda_unavailable.py tests/test_cuda_twins.py
tests_rc=$?
tests_verdict=$("$PY" tools/gpu_report.py tests-verdict "$WORK/tests.xml" 2>&1)
verdict_rc=$?
say "$tests_verdict"
if (( tests_rc == 0 && verdict_rc == 0 )); then
    record tests ok "$tests_verdict"
else
    record tests FAIL "${STEP_NOTE:+$STEP_NOTE; }$tests_verdict"
fi

# indices past 2^31
if step 75 "$PY" tools/gpu_large_index.py --json "$WORK/large_index.json"; then
    record large-index ok
else
    record large-index FAIL "$STEP_NOTE"
fi

# throughput against PyTorch, and peak memory
if step 150 "$PY" benchmarks/bench_gpu.py --models lenet5 simplecnn digitcnn deepcnn \
        --batch-sizes 64 256 --steps 20 --repeats 5 --warmup 3 --out "$WORK/bench"; then
    bench_verdict=$("$PY" tools/gpu_report.py bench-verdict "$WORK/bench/gpu.json" 2>&1)
    verdict_rc=$?
    say "$bench_verdict"
    if (( verdict_rc == 0 )); then
        record bench ok "$bench_verdict"
    else
        record bench FAIL "$bench_verdict"
    fi
else
    record bench FAIL "$STEP_NOTE"
fi

# report: gpu.json, gpu.md, and this log next to them
say ""
if mkdir -p "$RESULTS" && timeout "$REPORT_RESERVE" "$PY" tools/gpu_report.py write "$WORK" "$RESULTS" 2>&1 | tee -a "$LOG"; then
    REPORTED=1
else
    REPORTED=0
    FAILED+=(report)
fi

say "check took ${SECONDS}s"
if (( ${#FAILED[@]} )); then
    say "failed steps: ${FAILED[*]}"
    say "GPU CHECK: FAIL"
    status=1
else
    say "GPU CHECK: PASS"
    status=0
fi
# the log, final line included, next to the report (and everything under $OUT)
if (( REPORTED )); then
    cp "$LOG" "$RESULTS/.gpu_check.log.tmp" && mv "$RESULTS/.gpu_check.log.tmp" "$RESULTS/gpu_check.log"
fi
if [[ -n ${OUT:-} ]]; then
    for f in gpu.json gpu.md gpu_check.log; do
        if [[ -f $RESULTS/$f ]]; then cp "$RESULTS/$f" "$OUT/$f"; fi
    done
fi
exit "$status"
