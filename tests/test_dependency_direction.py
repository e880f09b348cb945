"""How the code depends on itself: qc depends on batches, never the other way (batches reaches
QC only through batches/ports.py); no module reaches into another's private names; no module
grows past what one reader can hold. Read from the source, so no database is needed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from batches import ports

ROOT = Path(__file__).resolve().parent.parent
APPS = ("carnk_mfg", "batches", "qc")

# Modules under batches/ allowed to import qc, each with why. Keep it to a handful.
BATCHES_MAY_IMPORT_QC = {
    "batches/management/commands/seed_demo.py": "the demo loads the whole product, QC included",
    "batches/management/demo/lifecycle.py": "the demo's batches pass QC on their way to release",
    "batches/management/demo/trending.py": "the demo's process history is scanned and trended",
    "batches/management/demo/environment.py": "the demo's cleanrooms are monitored by QC",
    "batches/management/demo/oos.py": "the demo's out-of-specification result is investigated",
}

MAX_LINES = 600
# A function longer than this says why, in a comment block right above it (or above its
# decorators) with a line starting KEPT_WHOLE.
MAX_FUNCTION_LINES = 60
KEPT_WHOLE = "# Kept in one piece:"
# Every Python file of the project that a person maintains (migrations are generated).
ALL_CODE = (*APPS, "tests", "bench")


def python_files(*tops: str) -> list[Path]:
    return sorted(
        path
        for top in tops
        for path in (ROOT / top).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def name_of(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import statement, at module level or inside a function;
    relative imports are resolved against `package`."""
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.append((node.lineno, module, [alias.name for alias in node.names]))
    return found


def package_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts if parts[-1] == "__init__" else parts[:-1]).removesuffix(".__init__")


def test_batches_never_imports_qc():
    offenders = []
    for path in python_files("batches"):
        if name_of(path) in BATCHES_MAY_IMPORT_QC:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, module, names in imported_modules(tree, package_of(path)):
            reaches_qc = module == "qc" or module.startswith("qc.")
            if reaches_qc or (module == "" and "qc" in names):
                offenders.append(f"{name_of(path)}:{line} imports {module or names}")
    assert not offenders, (
        "batches must not import qc (qc depends on batches); call a port in batches/ports.py "
        "instead:\n" + "\n".join(offenders)
    )


def test_the_allow_list_names_real_modules_that_need_it():
    for name in BATCHES_MAY_IMPORT_QC:
        path = ROOT / name
        assert path.exists(), f"{name} is allowed to import qc but does not exist"
        tree = ast.parse(path.read_text())
        modules = [module for _line, module, _names in imported_modules(tree, package_of(path))]
        assert any(m == "qc" or m.startswith("qc.") for m in modules), (
            f"{name} no longer imports qc: take it off BATCHES_MAY_IMPORT_QC"
        )


def test_no_module_imports_a_private_name_from_another():
    offenders = []
    for path in python_files(*APPS, "tests"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                for alias in node.names:
                    if alias.name.startswith("_"):
                        offenders.append(f"{name_of(path)}:{node.lineno} imports {alias.name}")
    assert not offenders, "A name starting with _ is its module's own:\n" + "\n".join(offenders)


def test_no_module_is_too_long_to_read():
    too_long = {
        name_of(path): lines
        for path in [*python_files(*ALL_CODE), ROOT / "manage.py"]
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not too_long, f"Split these (over {MAX_LINES} lines): {too_long}"


def says_why_it_is_long(lines: list[str], first_line: int) -> bool:
    """True if the comment block right above line `first_line` (1-based) holds KEPT_WHOLE."""
    index = first_line - 2
    while index >= 0 and lines[index].strip().startswith("#"):
        if lines[index].strip().startswith(KEPT_WHOLE):
            return True
        index -= 1
    return False


def test_no_function_is_too_long_without_a_reason():
    too_long = []
    for path in python_files(*ALL_CODE):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if length > MAX_FUNCTION_LINES and not says_why_it_is_long(lines, first):
                too_long.append(f"{name_of(path)}:{node.lineno} {node.name} ({length} lines)")
    assert not too_long, (
        f"Split these, or say why each reads best whole ({KEPT_WHOLE!r} above it):\n"
        + "\n".join(too_long)
    )


def test_a_reason_for_length_is_found_above_the_decorators():
    lines = ["# Kept in one piece: the chain reads in order.", "@decorator", "def walk():"]
    assert says_why_it_is_long(lines, 2)
    assert not says_why_it_is_long(["# Something else.", "def walk():"], 2)


def test_every_port_is_filled_once_the_apps_are_ready():
    assert ports.unfilled() == frozenset()


def test_an_unfilled_port_says_which_and_who_fills_it():
    @ports.port
    def nobody_fills_this(*, batch: object) -> None:
        """A port declared only for this test."""

    with pytest.raises(ports.PortNotFilled, match="nobody_fills_this.*AppConfig.ready"):
        nobody_fills_this(batch=None)


def test_a_port_refuses_a_function_of_another_shape():
    def plan(step):  # the port takes executed_step=, keyword-only
        return []

    with pytest.raises(TypeError, match="does not match the port"):
        ports.fill(qc_plan_for_step=plan)
    with pytest.raises(LookupError, match="No such port"):
        ports.fill(no_such_port=plan)
