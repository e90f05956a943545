"""ontology/ and shapes/ ship inside the wheel and load from an installed package."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from .conftest import ROOT


def test_wheel_carries_shapes_ontology_and_data(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("release_publisher-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "publisher/shapes/release-shapes.ttl",
        "publisher/ontology/release-publisher.ttl",
        "publisher/data/sample-calendar.json",
        "publisher/data/schemaorg-context.jsonld",
        "publisher/data/openapi.json",
        "publisher/py.typed",
    ):
        assert expected in names

    # A scratch venv that sees this venv's dependencies but not the checkout.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    scratch_python = venv / "bin" / "python"
    scratch_site = subprocess.run(
        [
            str(scratch_python),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = sysconfig.get_paths()["purelib"]
    Path(scratch_site, "project-deps.pth").write_text(deps + "\n")
    subprocess.run(
        [
            str(scratch_python),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    script = (
        "import publisher, publisher.resources as r, publisher.validation as v\n"
        "print(publisher.__file__)\n"
        "print(r.shapes_dir())\n"
        "print(r.ontology_file())\n"
        "print(len(v.shapes_graph()))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [str(scratch_python), "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the checkout
        env=env,
    ).stdout.splitlines()
    module, shapes, ontology, triples = out
    for path in (module, shapes, ontology):
        assert path.startswith(scratch_site), path
    assert int(triples) > 100
    # and the installed console script works end to end
    result = subprocess.run(
        [str(venv / "bin" / "publisher"), "demo", "--out", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo" / "sample.nq").stat().st_size > 10000
