"""The docs name only what the code has.

The chapters' worked examples run as doctests, but doctests check numbers, not prose: a
chapter could keep saying that batch norm saves x̂ after the code stopped saving it.  These
tests read the prose:

  * every file path the docs put in backticks exists;
  * every dotted name in backticks that starts at the package (`minitorch_cnn.x`, `mt.x`,
    `F.x`, `nn.x`, `optim.x`) resolves;
  * each chapter 1-11 has an "In the code" line citing the core file it derives, and every
    name on that line is defined in that file;
  * every "saves `a`, `b`" in a chapter names exactly what the cited Function passes to
    ctx.save_for_backward.
"""
import ast
import importlib
import re
from pathlib import Path

import pytest

import minitorch_cnn as mt

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHAPTERS = sorted(DOCS.glob("[01][0-9]_*.md"))
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
PATH_PREFIXES = ("minitorch_cnn/", "core/", "fast/", "ops/", "nn/", "tests/", "tools/", "kernels/",
                 "examples/", "benchmarks/", "docs/", "backends/")
ALIASES = {"mt": "minitorch_cnn", "F": "minitorch_cnn.nn.functional", "nn": "minitorch_cnn.nn",
           "optim": "minitorch_cnn.optim"}
# Files a tool writes when it runs (the GPU check needs a GPU this machine has not got): the
# docs may name them before they exist, as long as the tool really writes that name.
WRITTEN_BY = {"benchmarks/results/gpu.json": ("tools/gpu_report.py", "gpu.json")}
IN_THE_CODE = re.compile(r"\*\*In the code:\*\*(.*)")
SAVES = re.compile(r"\bsaves? ((?:`[^`]+`(?:,\s*|,? and |\s*)?)+)")


def spans(text):
    """Inline code spans, outside fenced blocks and doctest lines."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.lstrip().startswith((">>>", "...")):
            continue
        found += re.findall(r"`([^`\n]+)`", line)
    return found


def resolve_path(span):
    path = span.split(":")[0].split("#")[0].rstrip("/")
    if path in WRITTEN_BY:
        writer, name = WRITTEN_BY[path]
        return name in (ROOT / writer).read_text(encoding="utf-8")
    # `core/conv.py` and `nn/` are the package's folders; `tests/...` and the rest the repository's
    return (ROOT / path).exists() or (ROOT / "minitorch_cnn" / path).exists()


def is_path(span):
    return span.startswith(PATH_PREFIXES) and re.fullmatch(r"[\w./*:#-]+", span) and "*" not in span


def resolve_name(span):
    head, *rest = span.split(".")
    module = importlib.import_module(ALIASES.get(head, head))
    obj = module
    for i, part in enumerate(rest):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        obj = importlib.import_module(".".join([obj.__name__] + rest[i:i + 1]))
    return obj


def is_dotted_name(span):
    head = span.split(".")[0]
    return (re.fullmatch(r"[A-Za-z_][\w.]*[A-Za-z0-9_]", span) is not None and "." in span
            and head in ALIASES.keys() | {"minitorch_cnn"})


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_paths_in_backticks_exist(page):
    missing = [s for s in spans(page.read_text(encoding="utf-8")) if is_path(s) and not resolve_path(s)]
    assert missing == [], f"{page.name} names files that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_dotted_names_resolve(page):
    broken = []
    for span in spans(page.read_text(encoding="utf-8")):
        if is_dotted_name(span):
            try:
                resolve_name(span)
            except (ImportError, AttributeError):
                broken.append(span)
    assert broken == [], f"{page.name} names what the package does not have: {broken}"


def definitions(path):
    """Top-level names of a file, and Class.method for its classes' methods."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names |= {f"{node.name}.{m.name}" for m in node.body if isinstance(m, ast.FunctionDef)}
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def saved_names(path, classes):
    """The names each of `classes` passes to ctx.save_for_backward, in order."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    saved = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in classes:
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "save_for_backward"):
                    saved.setdefault(node.name, []).extend(ast.unparse(a) for a in call.args)
    return saved


def citations(chapter):
    """[(file, [names])] from the chapter's "In the code" lines."""
    cited = []
    for line in chapter.read_text(encoding="utf-8").splitlines():
        match = IN_THE_CODE.search(line)
        if match:
            names = re.findall(r"`([^`]+)`", SAVES.sub("", match.group(1)))
            files = [n for n in names if n.endswith(".py")]
            for f in files:
                cited.append((ROOT / f, [n for n in names if not n.endswith(".py")]))
    return cited


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_each_chapter_cites_the_core_code_it_derives(chapter):
    cited = citations(chapter)
    assert any("minitorch_cnn/core/" in str(f) for f, _ in cited), \
        f"{chapter.name} has no '**In the code:** `minitorch_cnn/core/...`' line"
    for path, names in cited:
        assert path.exists(), f"{chapter.name} cites {path.relative_to(ROOT)}, which does not exist"
        missing = [n for n in names if n not in definitions(path)]
        assert missing == [], f"{chapter.name}: {path.relative_to(ROOT)} does not define {missing}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_what_a_chapter_says_is_saved_is_what_the_code_saves(chapter):
    text = chapter.read_text(encoding="utf-8")
    claims = [re.findall(r"`([^`]+)`", m.group(1)) for m in SAVES.finditer(text)]
    if not claims:
        return
    saved = {}
    for path, names in citations(chapter):
        saved.update(saved_names(path, {n.split(".")[0] for n in names}))
    everything = {name for names in saved.values() for name in names}
    for claim in claims:
        unknown = [name for name in claim if name not in everything]
        assert unknown == [], (f"{chapter.name} says {claim} are saved; the cited Functions save "
                               f"{saved}")


def test_the_checker_catches_a_drifted_claim(tmp_path):
    """The saved-quantity check fails on the drift it was written for: a chapter saying batch
    norm saves something the core's BatchNorm does not."""
    fake = tmp_path / "08_batchnorm.md"
    fake.write_text("**In the code:** `minitorch_cnn/core/norm.py`, `BatchNorm`\n\n"
                    "The op saves `centered_x_that_is_not_there` for its backward.\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        test_what_a_chapter_says_is_saved_is_what_the_code_saves(fake)
    fake.write_text("**In the code:** `minitorch_cnn/core/norm.py`, `NoSuchFunction`\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        test_each_chapter_cites_the_core_code_it_derives(fake)


def test_mt_is_the_package():
    assert resolve_name("mt.nn.functional.conv2d") is mt.nn.functional.conv2d


def test_no_file_cites_a_document_outside_the_repository():
    """The design document is docs/design.md; nothing points at ../shared or a DESIGN.md."""
    cited = []
    for folder in ("minitorch_cnn", "tests", "tools", "benchmarks", "docs", "examples", "kernels"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".md", ".sh", ".cu", ".cuh") and path != Path(__file__):
                text = path.read_text(encoding="utf-8")
                if "DESIGN.md" in text or "../shared" in text:
                    cited.append(str(path.relative_to(ROOT)))
    assert cited == []
    assert (ROOT / "docs" / "design.md").exists()
