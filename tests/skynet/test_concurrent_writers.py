"""Several processes committing to one store at once lose nothing and duplicate nothing,
on SQLite and on PostgreSQL: writers started together on a fresh database (the schema
made once), the same clips committed by several of them, and whole ingestion runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from _batch import Batch, registry_db, stored
from _writer import SIGHTINGS_PER_CLIP, clip_sightings

from skynet.store import SightingStore

SUPPORT = Path(__file__).resolve().parents[1] / "support"
#: Each writer's clips: every clip is committed by two or more of them, ``C1:shared`` by all.
WRITERS = (
    ["C1:shared", "C2:a", "C3:b", "C2:d"],
    ["C1:shared", "C3:b", "C4:c"],
    ["C4:c", "C1:shared", "C2:a"],
    ["C2:d", "C1:shared", "C4:c"],
)


def test_writers_starting_together_on_a_fresh_database(db_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SUPPORT), os.environ.get("PYTHONPATH", "")]),
    }
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "_writer", db_url, str(go), *clips],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for clips in WRITERS
    ]
    go.touch()
    added: list[dict[str, int]] = []
    for writer in writers:
        out, err = writer.communicate(timeout=180)
        assert writer.returncode == 0, err
        added.append(json.loads(out))
    clips = sorted({c for clips in WRITERS for c in clips})
    store = SightingStore(db_url)
    assert sorted(c.id for c in store.clips()) == clips  # one row per clip
    assert store.count() == len(clips) * SIGHTINGS_PER_CLIP
    for clip in clips:  # each sighting counted new by exactly one writer
        assert sum(a.get(clip, 0) for a in added) == SIGHTINGS_PER_CLIP, clip
    expected = {s.id: s for clip in clips for s in clip_sightings(clip)}
    got = {s.id: s for s in store.find()}
    assert got.keys() == expected.keys()
    assert all(got[k] == s for k, s in expected.items())


def manifest_subset(batch: Batch, folder: Path, clips: list[str]) -> Path:
    """A folder whose manifest names some of the batch's clips (the videos linked in)."""
    folder.mkdir()
    document = json.loads((batch.folder / "manifest.json").read_text())
    document["clips"] = [c for c in document["clips"] if c["video"] in clips]
    (folder / "manifest.json").write_text(json.dumps(document))
    for camera in {Path(c).parts[0] for c in clips}:
        (folder / camera).symlink_to(batch.folder / camera, target_is_directory=True)
    return folder


def test_ingestion_processes_on_overlapping_batches(
    batch: Batch, db_url: str, tmp_path: Path
) -> None:
    db = registry_db(db_url)
    names = sorted(j.clip for j in batch.jobs)
    subsets = [names[:4], names[2:], names[::2] + names[1:2]]
    assert set().union(*subsets) == set(names)
    script = Path(sys.executable).with_name("skynet")
    env = {**os.environ, "SKYNET_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    folders = [manifest_subset(batch, tmp_path / f"part{i}", s) for i, s in enumerate(subsets)]
    runs = [
        subprocess.Popen(
            [str(script), "ingest", str(folder), "--db", db, "--workers", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for folder in folders
    ]
    added = 0
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        found = re.search(r"([\d,]+) sightings added", out)
        assert found, out
        added += int(found.group(1).replace(",", ""))
    assert added == len(batch.reference)  # nothing counted twice
    got = stored(db)
    assert got.keys() == batch.reference.keys()
    assert all(got[k] == s for k, s in batch.reference.items())
    assert sorted(c.name for c in SightingStore(db).clips()) == names
