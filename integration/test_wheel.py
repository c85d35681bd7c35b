"""Installing like any kernel: `make wheel`, then, in a fresh environment of pyenv's
CPython 3.13 where no Swift toolchain is on PATH and the source tree is hidden,
`pip install` of the wheel and `tandem install --user`; the kernel it writes runs
Python and R cells, a `tandem.map`, an interrupt and an inline plot."""

from __future__ import annotations

import functools
import io
import json
import shutil
import subprocess
import tempfile
import zipfile
from importlib import resources
from pathlib import Path

from conftest import ROOT
from own_pythons import DRIVER_PACKAGES, check_driver_session, hidden_source_tree, pyenv_python

#: A PATH with the system's programs (R among them) and nothing of the Swift toolchain.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


@functools.cache
def built_wheel() -> Path:
    """`make wheel` of this source tree, copied out of it (the tree is hidden later)."""
    result = subprocess.run(["make", "-C", str(ROOT), "wheel"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels = sorted((ROOT / "dist").glob("tandem_kernel-*.whl"))
    assert len(wheels) == 1, wheels
    folder = Path(tempfile.mkdtemp(prefix="tandem-wheel-"))
    return Path(shutil.copy(wheels[0], folder))


def hidden(script: str, home: Path, r_library: Path, path: str, timeout: float = 900):
    """Runs a bash script with the source tree hidden, as a user whose home is `home`
    and whose R library is `r_library`, with only `path` on PATH."""
    env = {
        "HOME": str(home), "PATH": path, "R_LIBS_USER": str(r_library), "LANG": "C.UTF-8",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "TMPDIR": tempfile.gettempdir(),
    }
    return hidden_source_tree(["bash", "-ec", script], env=env, timeout=timeout)


#: Debian's own python3, which carries libpython in its program.
DEBIAN_PYTHON = "/usr/bin/python3"


def installed_environment(base: str = "") -> Path:
    """A fresh venv of `base` (default: pyenv's 3.13) into which `pip install` put the
    wheel (and what the driver needs), the source tree hidden throughout, made once.
    Returns its folder."""
    return environment_of(base or str(pyenv_python("3.13")))


@functools.cache
def environment_of(base: str) -> Path:
    wheel = built_wheel()
    folder = Path(tempfile.mkdtemp(prefix="tandem-wheelenv-")) / "env"
    script = f"""
    if command -v swift; then echo "a Swift toolchain is on PATH"; exit 1; fi
    {base} -m venv {folder}
    {folder}/bin/python -m pip install -q {wheel} {" ".join(DRIVER_PACKAGES)}
    """
    home = folder.parent / "home"
    home.mkdir()
    result = hidden(script, home, folder.parent / "no-r-library", SYSTEM_PATH)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder


def install_and_drive(tmp_path: Path, r_library: Path, base: str = "") -> tuple[str, dict, str, list]:
    """`tandem install --user` as a user with home and R library in `tmp_path`, then the
    driver's session through jupyter_client, in the environment `installed_environment`
    made of `base`. Returns what install printed, what the driver saw, what `tandem
    doctor` printed and the spec's argv."""
    env = installed_environment(base)
    home = tmp_path / "home"
    home.mkdir()
    driver = tmp_path / "driver.py"
    shutil.copy(ROOT / "integration" / "own_python_driver.py", driver)
    script = f"""
    echo "== install"; tandem install --user
    echo "== specs"; ls "$HOME/.local/share/jupyter/kernels"
    echo "== doctor"; tandem doctor || true
    echo "== driver"; python {driver} tandem
    """
    result = hidden(script, home, r_library, f"{env}/bin:{SYSTEM_PATH}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    sections = dict(part.split("\n", 1) for part in result.stdout.split("== ")[1:])
    assert sections["specs"].split() == ["tandem", "tandem-r"], sections["specs"]
    spec = json.loads((home / ".local/share/jupyter/kernels/tandem/kernel.json").read_text())
    assert spec["argv"][spec["argv"].index("--python") + 1] == str(env / "bin" / "python")
    assert not [arg for arg in spec["argv"] if str(ROOT) in arg]
    seen = json.loads(sections["driver"].strip().splitlines()[-1])
    return sections["install"], seen, sections["doctor"], spec["argv"]


def packaged(env: Path, name: str) -> Path:
    """A file the wheel put in the `tandem` package of `env`."""
    return next(env.glob("lib/python3.*/site-packages/tandem")) / "bin" / name


def r_package_version() -> str:
    text = (ROOT / "r" / "tandem" / "DESCRIPTION").read_text()
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Version:"))


def libraries_outside(wheel: Path, policy: str) -> list[str]:
    """The shared libraries that ELF files in `wheel` need which neither the manylinux
    `policy` lets a wheel take from the system nor the wheel carries itself."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    policies = json.loads((resources.files("auditwheel.policy") / "manylinux-policy.json").read_text())
    allowed = set(next(p for p in policies if p["name"] == policy)["lib_whitelist"])
    allowed.add("ld-linux-x86-64.so.2")  # glibc's loader, as libc itself (auditwheel skips it too)
    with zipfile.ZipFile(wheel) as archive:
        carried = {Path(name).name for name in archive.namelist() if ".libs/" in name}
        needed = set()
        for name in archive.namelist():
            data = archive.read(name)
            if data[:4] == b"\x7fELF":
                for section in ELFFile(io.BytesIO(data)).iter_sections():
                    if isinstance(section, DynamicSection):
                        needed |= {tag.needed for tag in section.iter_tags() if tag.entry.d_tag == "DT_NEEDED"}
    return sorted(needed - allowed - carried)


def test_auditwheel_names_the_policy_and_nothing_outside_it():
    wheel = built_wheel()
    assert wheel.name.startswith("tandem_kernel-") and "-cp310-abi3-manylinux_2_" in wheel.name
    shown = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "auditwheel"), "show", str(wheel)], capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    tag = wheel.name.split("-")[-1].removesuffix(".whl")
    assert f'is consistent with the following platform tag: "{tag}"' in text, text
    policy = tag.removesuffix("_x86_64")
    assert libraries_outside(wheel, policy) == []
    # The wheel before auditwheel bundled the binary's libraries: the same check names them.
    raw = next((ROOT / ".build" / "wheel" / "raw").glob("tandem_kernel-*.whl"))
    assert {"libzmq.so.5", "libcrypto.so.3"} <= set(libraries_outside(raw, policy))


def test_a_wheel_in_a_fresh_environment_with_tandems_r_package_present(tmp_path):
    library = tmp_path / "R-library"
    library.mkdir()
    source = shutil.copytree(ROOT / "r" / "tandem", tmp_path / "source" / "tandem")  # it compiles in place
    subprocess.run(["R", "CMD", "INSTALL", "--no-html", "-l", str(library), str(source)], check=True, capture_output=True)
    printed, seen, doctor, argv = install_and_drive(tmp_path, library)
    env = installed_environment()
    assert Path(argv[0]) == packaged(env, "tandem")  # pyenv's 3.13 runs on its shared libpython
    assert f"Tandem's R package {r_package_version()} is in {library}" in printed, printed
    assert "Installing Tandem's R package" not in printed, printed
    assert seen["language_version"].startswith("3.13.")
    check_driver_session(seen, installed_environment() / "bin" / "python")
    assert f"R tandem           {r_package_version()} ({library})" in doctor, doctor
    assert "Everything Tandem needs is here." in doctor, doctor


def test_tandem_install_builds_the_r_package_where_r_lacks_it(tmp_path):
    library = tmp_path / "R-user-library"  # R_LIBS_USER, not made yet: install makes it
    printed, seen, doctor, _ = install_and_drive(tmp_path, library)
    version = r_package_version()
    assert f"Installing Tandem's R package {version} into {library}: R CMD INSTALL" in printed, printed
    assert f"Installed Tandem's R package {version} into {library}" in printed, printed
    assert (library / "tandem" / "DESCRIPTION").exists()
    assert seen["language_version"].startswith("3.13.")
    check_driver_session(seen, installed_environment() / "bin" / "python")
    assert f"R tandem           {version} ({library})" in doctor, doctor


def test_debians_python3_runs_the_wheels_kernel_inside_itself(tmp_path):
    """Debian's python3 carries libpython in its program: the spec starts the kernel
    inside the environment's python, from the library the wheel carries."""
    library = tmp_path / "R-user-library"
    printed, seen, doctor, argv = install_and_drive(tmp_path, library, DEBIAN_PYTHON)
    env = installed_environment(DEBIAN_PYTHON)
    python = env / "bin" / "python"
    assert argv[:4] == [str(python), "-m", "tandem._host", str(packaged(env, "libTandemMain.so"))]
    assert seen["language_version"] == subprocess.run(
        [DEBIAN_PYTHON, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    check_driver_session(seen, python)
    assert f"runs cells         inside {python}, which carries libpython itself" in doctor, doctor


def test_without_r_the_python_kernel_is_installed_and_adding_r_is_explained(tmp_path):
    env = installed_environment()
    home = tmp_path / "home"
    home.mkdir()
    no_r = tmp_path / "bin"  # PATH with the environment and the shell's programs, not R
    no_r.mkdir()
    for tool in ("unshare", "sh", "mount", "bash", "ls", "env"):
        (no_r / tool).symlink_to(shutil.which(tool, path=SYSTEM_PATH))
    result = hidden(
        'tandem install --user; ls "$HOME/.local/share/jupyter/kernels"', home, tmp_path / "rlib", f"{env}/bin:{no_r}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "R was not found (`R` on PATH): Python cells work; for R cells install R" in result.stdout
    assert "then run `tandem install` again" in result.stdout
    assert result.stdout.split()[-1] == "tandem" and "tandem-r" not in result.stdout.split()
