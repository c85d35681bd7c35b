"""Tandem in a real browser: JupyterLab (from the venv) driven by Debian's headless
Chromium through selenium. For each kernelspec a notebook runs a cell of each
language, a plot, a value crossing between the languages and a futures fan-out
with its progress bar; the outputs are read from the page and a screenshot is
saved in out/browser/. The debugger panel stops a Python cell at a breakpoint set
in the editor's gutter and shows the paused function's variables. The resource
panel (jupyter-resource-usage) shows the memory of the kernel with its R child.

Over 400 lines on purpose: the cases share one JupyterLab server and one Chromium,
and the page helpers they drive it with."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from conftest import PYTHON, install_ipykernel, process_tree, pss
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "out" / "browser"
CHROMIUM = "/usr/lib/chromium/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="needs Debian's chromium and chromium-driver (make setup installs them)",
)

NOTEBOOKS = {
    "tandem": (
        {"display_name": "Tandem (Python + R)", "language": "python", "name": "tandem"},
        [
            'print("hello from " + "Python")',
            "%%R -w 400 -h 300 -u px\nplot(1:10, main = 'from R')",
            "import pandas as pd\nframe = pd.DataFrame({'x': [1.5, 2.5, 4.0]})\n"
            "r.frame = frame\nprint('R says', r('sum(frame$x)'))",
            "import tandem, time\nout = tandem.map(time.sleep, [0.3] * 8)\nprint('mapped', len(out))",
        ],
    ),
    "tandem-r": (
        {"display_name": "Tandem (R + Python)", "language": "R", "name": "tandem-r"},
        [
            'cat("hello from", "R\\n")',
            "options(repr.plot.width = 5, repr.plot.height = 3.5, repr.plot.res = 80)\nplot(1:10, main = 'from R')",
            "%%python\nimport numpy as np\nvalues = np.array([1.5, 2.5, 4.0])",
            'cat("Python says", sum(py$values), "\\n")',
            "library(future)\nplan(tandem::workers)\n"
            "v <- value(lapply(1:8, function(i) future({ Sys.sleep(0.3); i })))\n"
            'cat("mapped", length(v), "\\n")',
        ],
    ),
}


DEBUGGED_CELL = "def f(a, b):\n    c = a + b\n    return c\n\nf(2, 3)"
NOTEBOOKS["debugger"] = (NOTEBOOKS["tandem"][0], [DEBUGGED_CELL])
# The same session with ipykernel in the same environment: the anchor.
NOTEBOOKS["debugger-ipykernel"] = (
    {"display_name": "ipykernel", "language": "python", "name": install_ipykernel(PYTHON, "ipykernel-browser")},
    [DEBUGGED_CELL],
)
# 400 MB in Python and 200 MB in the R child, for the resource panel to count.
# The pool panel during a fan-out of four 4-second tasks on two workers.
NOTEBOOKS["status"] = (
    NOTEBOOKS["tandem"][0],
    ["import tandem, time\ntandem.status()\nfs = [tandem.submit(time.sleep, 4) for _ in range(4)]\n"
     "print('slept', sum(1 for f in fs if f.result() is None))"],
)
NOTEBOOKS["usage"] = (
    NOTEBOOKS["tandem"][0],
    ["import numpy as np\nbig = np.ones(50_000_000)", "%%R\nbig <- rep(1, 25e6)\ncat(length(big))"],
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    root = Path(tempfile.mkdtemp(prefix="tandem-lab-"))
    for name, (spec, cells) in NOTEBOOKS.items():
        nb = new_notebook(cells=[new_code_cell(c) for c in cells], metadata={"kernelspec": spec})
        nbformat.write(nb, root / f"{name}.ipynb")
    settings = root / ".settings"
    overrides = {
        # No news or update prompts over the page.
        "apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
        # Every cell in the page, not only those scrolled into view.
        "notebook-extension/tracker": {"windowingMode": "none"},
    }
    for path, values in overrides.items():
        target = settings / "@jupyterlab" / f"{path}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    token = secrets.token_hex(16)
    port = _free_port()
    # Settings and workspaces of the run's own: a workspace JupyterLab saved in the
    # user's folder on an earlier run (an open debugger sidebar) changes the page.
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces")}
    # The server's and its kernels' stderr go to a file: a pipe nobody reads would
    # stop a kernel once its buffer is full.
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed with the server
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True",
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=None"],
        env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None:
                raise RuntimeError((root / "server.log").read_text())
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}", token
    server.terminate()
    server.wait(10)
    log.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "server.log", SCREENSHOTS / "jupyterlab-server.log")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def browser():
    os.environ["SE_OFFLINE"] = "true"  # no network lookups by Selenium Manager
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="tandem-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1400,1800", f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _run_all(driver, url: str, token: str, name: str) -> None:
    _start_all(driver, url, token, name)
    _wait_until_all_ran(driver)


def _start_all(driver, url: str, token: str, name: str) -> None:
    """Opens the notebook and clicks Run All Cells."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 90)
    driver.get(f"{url}/lab/tree/{name}.ipynb?reset&token={token}")
    wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']")))

    def labelled(css: str, text: str):
        # Menu labels mark their mnemonic letter with a child element: match the
        # rendered text, not the markup.
        def find(d):
            return next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.text == text), False)

        return find

    def started(d) -> bool:
        prompts = [p.text.strip() for p in d.find_elements(
            By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt")]
        return any(p not in ("[ ]:", "") for p in prompts)

    # Now and then (one run in ten here) the page takes the click on the menu item
    # as nothing: no cell is even queued. The menu is used again only then, when
    # running all cells again cannot run any twice.
    for _ in range(3):
        wait.until(labelled(".lm-MenuBar-itemLabel", "Run")).click()
        wait.until(labelled(".lm-Menu-itemLabel", "Run All Cells")).click()
        try:
            WebDriverWait(driver, 10).until(started)
            return
        except TimeoutException:
            continue


def _wait_until_all_ran(driver) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 90)

    def prompts(d) -> list[str]:
        return [p.text for p in d.find_elements(
            By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt")]

    def all_ran(d):
        shown = prompts(d)
        return shown and all(p.strip() not in ("[ ]:", "[*]:", "") for p in shown)

    try:
        wait.until(all_ran)
    except TimeoutException:
        # Which cell did not end, and what the page shows: enough to tell a kernel
        # that stopped answering from a page that missed a message.
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / "not-all-ran.png"))
        outputs = [text[:300] for text in _outputs(driver)]
        raise AssertionError(f"not every cell ran within 90 s: prompts {prompts(driver)}, outputs {outputs}") from None


def _outputs(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell")
    return [c.find_element(By.CSS_SELECTOR, ".jp-Cell-outputWrapper").get_attribute("innerHTML") for c in cells]


def _check_progress_bar(html: str) -> None:
    assert "<progress" in html, html[:500]
    value = html.split('value="', 1)[1].split('"', 1)[0]
    maximum = html.split('max="', 1)[1].split('"', 1)[0]
    assert value == maximum == "8"


# For each kernelspec: the cell that greets, the plot, the crossing value and the fan-out.
EXPECTED = {
    "tandem": {"hello": (0, "hello from Python"), "plot": 1, "crossing": (2, "R says 8"), "fan_out": 3},
    "tandem-r": {"hello": (0, "hello from R"), "plot": 1, "crossing": (3, "Python says 8"), "fan_out": 4},
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_notebook_in_jupyterlab(lab, browser, name):
    url, token = lab
    _run_all(browser, url, token, name)
    outputs = _outputs(browser)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    expected = EXPECTED[name]
    cell, text = expected["hello"]
    assert text in outputs[cell]
    assert "<img" in outputs[expected["plot"]] and "image/png" in outputs[expected["plot"]]
    cell, text = expected["crossing"]
    assert text in outputs[cell]
    _check_progress_bar(outputs[expected["fan_out"]])
    assert "mapped 8" in outputs[expected["fan_out"]]
    assert "jp-OutputArea-error" not in "".join(outputs)


def debug_in_lab(lab, browser, notebook: str) -> dict | None:
    """Opens `notebook` in JupyterLab, turns the debugger on, sets a breakpoint on
    line 2 of its cell (by clicking the gutter) and runs it. What the debugger
    panel showed while paused (variables, call stack, highlighted line), or None
    when the session never paused (the screenshot shows where it stood)."""
    from selenium.common.exceptions import TimeoutException

    try:
        return _debug_in_lab(lab, browser, notebook)
    except TimeoutException:
        return None
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / f"{notebook}.png"))


def _debug_in_lab(lab, browser, notebook: str) -> dict | None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, token = lab
    wait = WebDriverWait(browser, 90)
    panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
    browser.get(f"{url}/lab/tree/{notebook}.ipynb?reset&token={token}")
    wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, f"{panel} .jp-Notebook-ExecutionIndicator[data-status='idle']")))
    bug = f"{panel} jp-button.jp-DebuggerBugButton"
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, bug).get_attribute("aria-disabled") == "false")
    browser.find_element(By.CSS_SELECTOR, bug).click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, bug).get_attribute("aria-pressed") == "true")

    cell = browser.find_element(By.CSS_SELECTOR, f"{panel} .jp-CodeCell")
    # The breakpoint gutter's first element is a hidden spacer; then one per line.
    gutter = ".cm-gutter.cm-breakpoint-gutter .cm-gutterElement"
    lines = wait.until(lambda d: len(cell.find_elements(By.CSS_SELECTOR, gutter)) >= 6
                       and cell.find_elements(By.CSS_SELECTOR, gutter))
    lines[2].click()
    wait.until(lambda d: cell.find_elements(By.CSS_SELECTOR, ".cm-breakpoint-gutter .cm-gutterElement .cm-breakpoint-icon"))
    # The gutter shows the breakpoint at once; the kernel has it when the
    # sidebar lists it (JupyterLab does not hold a cell run until then, and a
    # cell run at once can start first).
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-DebuggerSidebar .jp-DebuggerBreakpoint"))
    cell.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()

    def outcome(d):
        """[the paused variables' text], [None] once the cell ended, or False."""
        found = d.find_elements(By.CSS_SELECTOR, ".jp-DebuggerSidebar .jp-DebuggerVariables")
        text = found[0].text if found else ""
        if "a:" in text.replace("\n", "") or "a\n2" in text:
            return [text]
        ended = cell.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").text.strip() == "[1]:"
        return [None] if ended else False

    (variables,) = WebDriverWait(browser, 45).until(outcome)
    if variables is None:
        return None
    seen = {
        "variables": [line.strip().rstrip(":") for line in variables.splitlines() if line.strip()],
        "stack": browser.find_element(By.CSS_SELECTOR, ".jp-DebuggerSidebar .jp-DebuggerCallstack").text,
        "highlighted": [e.text for e in cell.find_elements(
            By.CSS_SELECTOR, ".jp-DebuggerEditor-highlight, .cm-line.jp-DebuggerEditor-highlight")],
    }
    continue_button = next(
        e for e in browser.find_elements(By.CSS_SELECTOR, ".jp-DebuggerSidebar jp-button, .jp-DebuggerSidebar button")
        if (e.get_attribute("title") or "").startswith("Continue"))
    continue_button.click()
    wait.until(lambda d: cell.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").text.strip() == "[1]:")
    return seen


def test_the_debugger_panel_stops_at_a_breakpoint_and_shows_the_variables(lab, browser):
    """Side by side with ipykernel in the same JupyterLab and browser: both
    sessions pause at the breakpoint, and Tandem's shows the function's variables,
    the cell's frames only and the paused line."""
    anchor = debug_in_lab(lab, browser, "debugger-ipykernel")
    # (Else this JupyterLab and browser cannot debug at all: see the screenshot.)
    assert anchor is not None, "ipykernel did not pause at the breakpoint either"
    seen = debug_in_lab(lab, browser, "debugger")
    assert seen is not None, "ipykernel paused at the breakpoint, Tandem did not"
    assert anchor["variables"][:4] == ["a", "2", "b", "3"]
    shown = seen["variables"]
    assert shown[shown.index("a") + 1] == "2" and shown[shown.index("b") + 1] == "3", shown
    frames = [line for line in seen["stack"].splitlines() if line in ("f", "<module>") or ".py:" in line]
    # The paused function and the cell, and no frame of IPython's or the kernel's.
    assert [line for line in frames if not line.startswith("/")] == ["f", "<module>"], seen["stack"]
    assert "ipython" not in seen["stack"].lower() and "tandem/" not in seen["stack"]
    assert seen["highlighted"] and "c = a + b" in seen["highlighted"][0]


def _bytes(text: str) -> float:
    number, unit = text.split()
    return float(number) * {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]


def test_the_resource_panel_counts_the_kernel_with_its_r_child(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, token = lab
    _run_all(browser, url, token, "usage")
    assert "25000000" in _outputs(browser)[1]
    browser.find_element(By.CSS_SELECTOR, ".lm-TabBar-tab[data-id='kernelusage-panel-id']").click()

    def figures(d):
        text = d.find_element(By.ID, "kernelusage-panel-id").text
        found = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
        # The panel asks every few seconds; its first answer may predate the cells.
        return found if "Process ID" in found and _bytes(found.get("Memory", "0 B")) > 600e6 else False

    # Both arrays (600 MB) and so both processes are counted...
    shown = WebDriverWait(browser, 60).until(figures)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "usage.png"))
    memory = _bytes(shown["Memory"])
    # ...and the figure is the tree's, as /proc gives it.
    kernel = int(shown["Process ID"])
    tree = process_tree(kernel)
    assert len(tree) >= 2, tree
    assert abs(memory - sum(pss(pid) for pid in tree)) < 0.15 * memory


_PANEL_SCRIPT = """
const panels = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .tandem-status');
return Array.from(panels).map(panel => {
  const headings = Array.from(panel.querySelectorAll('th')).map(h => h.textContent);
  const rows = Array.from(panel.querySelectorAll('tbody tr')).map(row => Object.fromEntries(
    Array.from(row.querySelectorAll('td')).map((cell, i) => [headings[i], cell.textContent])));
  return {rows: rows, text: panel.innerText};
});
"""


def _panels(driver) -> list[dict]:
    """Each pool panel on the page: its workers' rows and its text, read at once in
    the page (the panel is replaced at every update)."""
    return driver.execute_script(_PANEL_SCRIPT)


def test_the_pool_panel_updates_during_a_fan_out(lab, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    url, token = lab
    _start_all(browser, url, token, "status")

    def all_busy(d):
        # While the tasks sleep, the panel shows every worker busy with a task
        # that has run for a while.
        panels = _panels(d)
        rows = panels[0]["rows"] if panels else []
        return panels[0] if rows and all(r["state"] == "busy" and r["running"] for r in rows) else False

    busy = WebDriverWait(browser, 90).until(all_busy)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "status.png"))
    assert {r["language"] for r in busy["rows"]} == {"Python"}
    assert all(r["task"].startswith("#") for r in busy["rows"])
    assert f"queued: Python {4 - len(busy['rows'])}" in busy["text"], busy["text"]
    _wait_until_all_ran(browser)
    assert "slept 4" in _outputs(browser)[0]
    # The same output, updated in place to the end: no second panel, all idle.
    panels = _panels(browser)
    assert len(panels) == 1
    assert {r["state"] for r in panels[0]["rows"]} == {"idle"}
    assert sum(int(r["done"]) for r in panels[0]["rows"]) == 4
