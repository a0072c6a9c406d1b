"""Assemble tools/gpu_check.sh's results into gpu.json and gpu.md (no GPU needed: plain files in, files out).

    python tools/gpu_report.py tests-verdict JUNIT_XML        # passed/failed/skipped; status 1 on any failure or skip
    python tools/gpu_report.py bench-verdict BENCH_JSON       # the bench measured, and computed the same model
    python tools/gpu_report.py write WORK_DIR RESULTS_DIR      # gpu.json + gpu.md from the check's work folder

The work folder holds what the check's steps wrote (every file optional: a step that
did not run leaves none, and the report says so):

    steps.tsv            one line per step: name, status (ok | FAIL | skipped), seconds, note
    versions.json        tools/gpu_probe.py versions
    kernels.json         tools/gpu_probe.py kernels
    tests.xml            pytest --junitxml of the GPU tests
    large_index.json     tools/gpu_large_index.py
    bench/gpu.json       benchmarks/bench_gpu.py

gpu.json has the keys device, driver, cuda, cupy, torch, tests {passed, failed, skipped},
results [{model, batch_size, ours_img_s, torch_img_s, ratio, peak_bytes}], and, for the
reader, verdict, failed_steps, steps, versions, kernels, large_index, bench.  Both files are
written atomically (a temporary file, then a rename), so a check killed half way never
leaves a truncated report.
"""
import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))     # this checkout's package

STEP_STATUSES = ("ok", "FAIL", "skipped")


# ---- inputs -----------------------------------------------------------------------------

def junit_counts(path):
    """{passed, failed, skipped, errors, tests} from a pytest --junitxml file.

    failed counts failures and errors (a test that errored did not pass)."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in totals:
            totals[key] += int(suite.get(key, 0))
    failed = totals["failures"] + totals["errors"]
    return {"passed": totals["tests"] - failed - totals["skipped"], "failed": failed,
            "skipped": totals["skipped"], "errors": totals["errors"], "tests": totals["tests"]}


def tests_problems(counts):
    """Why a GPU test run does not pass: failures, any skip (a GPU test that skips checked
    nothing), or no test at all."""
    problems = []
    if counts["failed"]:
        problems.append(f"{counts['failed']} failed")
    if counts["skipped"]:
        problems.append(f"{counts['skipped']} skipped (no skip is allowed on the GPU)")
    if counts["tests"] == 0:
        problems.append("no test ran")
    return problems


# PyTorch and the engine start from the same weights: their eval-mode logits differ only by
# rounding (cuDNN's TF32 convolutions: ~1e-3 relative).  More means one computed something else.
LOGITS_TOLERANCE = 1e-2


def bench_problems(bench):
    """Why a benchmark run does not count: nothing measured, or logits that disagree with PyTorch's."""
    if not bench or not bench.get("results"):
        return ["no benchmark results"]
    problems = []
    for row in bench.get("rows", []):
        diff = row.get("eval_logits_max_rel_diff")
        if diff is not None and not diff <= LOGITS_TOLERANCE:      # NaN fails too
            problems.append(f"{row['model']} batch {row['batch']}: eval logits differ from PyTorch's by "
                            f"{diff:.1e} (relative), more than {LOGITS_TOLERANCE:.0e}")
    return problems


def bench_line(bench):
    """One line: how many configurations, and the target's ratio."""
    results = bench.get("results", [])
    target = bench.get("target") or {}
    text = f"{len(results)} configurations measured"
    row = next((r for r in results if r["model"] == target.get("model") and r["batch_size"] == target.get("batch")),
               None)
    if row is not None and row.get("ratio") is not None:
        text += (f"; {row['model']} at batch {row['batch_size']}: ratio {row['ratio']:.2f} "
                 f"({'met' if row['ratio'] >= target['min_ratio'] else 'NOT met'}: target {target['min_ratio']})")
    return text


def read_steps(path):
    """steps.tsv -> [{name, status, seconds, note}], in the order the steps ran."""
    steps = []
    if not Path(path).is_file():
        return steps
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        name, status, seconds, note = (line.split("\t") + ["", "", ""])[:4]
        if status not in STEP_STATUSES:
            note = f"unknown status {status!r}" + (f"; {note}" if note else "")
            status = "FAIL"
        steps.append({"name": name, "status": status, "seconds": float(seconds or 0), "note": note})
    return steps


def _read_json(path):
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


# ---- assembly ---------------------------------------------------------------------------

def build_report(work, date=None):
    """The gpu.json dictionary from the work folder's files."""
    work = Path(work)
    steps = read_steps(work / "steps.tsv")
    versions = _read_json(work / "versions.json") or {}
    bench = _read_json(work / "bench" / "gpu.json") or {}
    if (work / "tests.xml").is_file():
        try:
            tests = junit_counts(work / "tests.xml")
        except (ET.ParseError, ValueError) as exc:
            tests = {"passed": 0, "failed": 0, "skipped": 0, "note": f"unreadable junit file: {exc}"}
    else:
        tests = {"passed": 0, "failed": 0, "skipped": 0, "note": "the tests did not run"}
    failed_steps = [s["name"] for s in steps if s["status"] == "FAIL"]
    if not steps:
        failed_steps.append("(no step ran)")
    report = {
        "date": date or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "verdict": "FAIL" if failed_steps else "PASS",
        "failed_steps": failed_steps,
        "device": versions.get("device") or bench.get("device"),
        "driver": versions.get("driver") or bench.get("driver"),
        "cuda": versions.get("cuda") or bench.get("cuda"),
        "cupy": versions.get("cupy") or bench.get("cupy"),
        "torch": versions.get("torch") or bench.get("torch"),
        "tests": tests,
        "results": bench.get("results", []),
        "steps": steps,
        "versions": versions,
        "kernels": (_read_json(work / "kernels.json") or {}).get("kernels", []),
        "large_index": (_read_json(work / "large_index.json") or {}).get("cases", []),
        "bench": {k: bench[k] for k in ("settings", "target", "rows") if k in bench},
    }
    return report


def _cell(text):
    """Free text inside a markdown table cell: one line, no column break."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _mb(value):
    return "—" if value is None else f"{value / 2**20:,.1f}"


def _num(value, fmt):
    return "—" if value is None else format(value, fmt)


def markdown(report):
    """gpu.md: what ran, on what, and what came out."""
    v = report["versions"]
    lines = [f"# GPU check: {report['verdict']}", "",
             f"Run {report['date']} by `tools/gpu_check.sh` on {report['device'] or 'an unknown device'}"
             + (f" (compute capability {v['compute_capability']})" if v.get("compute_capability") else "")
             + f"; driver {report['driver'] or '?'}, CUDA runtime {report['cuda'] or '?'}, "
             f"CuPy {report['cupy'] or '?'}, PyTorch {report['torch'] or '?'}"
             + (f" (CUDA {v['torch_cuda']})" if v.get("torch_cuda") else "") + ".", ""]
    if report["failed_steps"]:
        lines += [f"Failed steps: {', '.join(report['failed_steps'])}.", ""]
    lines += ["| step | status | seconds | note |", "|---|---|---:|---|"]
    lines += [f"| {s['name']} | {s['status']} | {s['seconds']:.0f} | {_cell(s['note'])} |" for s in report["steps"]]
    t = report["tests"]
    lines += ["", f"GPU tests (MINITORCH_CNN_REQUIRE_CUDA=1): {t['passed']} passed, {t['failed']} failed, "
              f"{t['skipped']} skipped" + (f" ({t['note']})" if t.get("note") else "") + "."]
    if report["kernels"]:
        lines += ["", "Kernels as NVRTC compiled them for this GPU (per thread):", "",
                  "| kernel | registers | local memory B | shared B |", "|---|---:|---:|---:|"]
        lines += [f"| {k['file']} {k['kernel']} | {k['num_regs']} | {k['local_size_bytes']} | "
                  f"{k['shared_size_bytes']} |" for k in report["kernels"]]
    if report["large_index"]:
        lines += ["", "Indices past 2^31 (sampled images against the NumPy path, bit for bit):", "",
                  "| case | result | detail |", "|---|---|---|"]
        lines += [f"| {c['case']} | {'ok' if c['ok'] else 'FAIL: ' + _cell('; '.join(c['problems']))} | "
                  f"{_cell(c['detail'])} |" for c in report["large_index"]]
    if report["results"]:
        lines += ["", "Training throughput (forward + backward + Adam, float32, 28×28 inputs; median of "
                  "the timed repeats). Peak MB: the most memory the engine's CuPy pool held during "
                  "the configuration.", "",
                  "| model | batch | ours img/s | PyTorch img/s | ratio | peak MB |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['model']} | {r['batch_size']} | {_num(r['ours_img_s'], ',.0f')} | "
                  f"{_num(r.get('torch_img_s'), ',.0f')} | {_num(r.get('ratio'), '.2f')} | "
                  f"{_mb(r.get('peak_bytes'))} |" for r in report["results"]]
        target = report["bench"].get("target")
        if target:
            met = {True: "met", False: "NOT met", None: "not measured"}[target.get("met")]
            lines += ["", f"Target: {target['model']} at batch {target['batch']} reaches at least "
                      f"{target['min_ratio']:.0%} of PyTorch's eager throughput: {met}."]
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    """The engine's one atomic-write helper (a temporary file beside `path`, then a rename)."""
    from minitorch_cnn.serialization import atomic_write
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def write(work, results_dir, date=None):
    report = build_report(work, date)
    write_atomically(Path(results_dir) / "gpu.json", json.dumps(report, indent=2) + "\n")
    write_atomically(Path(results_dir) / "gpu.md", markdown(report))
    return report


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "tests-verdict":
        try:
            counts = junit_counts(argv[1])
        except (OSError, ET.ParseError, ValueError) as exc:
            print(f"tests: no readable junit report ({exc})")
            return 1
        problems = tests_problems(counts)
        print(f"tests: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
              + (f": FAIL ({'; '.join(problems)})" if problems else ""))
        return 1 if problems else 0
    if len(argv) == 2 and argv[0] == "bench-verdict":
        bench = _read_json(argv[1]) or {}
        problems = bench_problems(bench)
        print("bench: " + (bench_line(bench) if bench else "no readable results")
              + (f": FAIL ({'; '.join(problems)})" if problems else ""))
        return 1 if problems else 0
    if len(argv) == 3 and argv[0] == "write":
        report = write(argv[1], argv[2])
        print(f"wrote {Path(argv[2]) / 'gpu.json'} and gpu.md (verdict {report['verdict']})")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
