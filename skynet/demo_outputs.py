"""What the demo leaves behind: ``route.geojson``, ``route.png`` and ``report.html``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np

from skynet.demo import DemoRun
from skynet.errors import BadInputError
from skynet.frontier import FrontierCamera
from skynet.report.evidence import evidence_thumbnails
from skynet.report.html_report import Report, TimelineRow, render_html
from skynet.report.map_image import MapNote, draw_route_map
from skynet.roads.coverage import watched_lengths
from skynet.times import format_time

GEOJSON: Final = "route.geojson"
PNG: Final = "route.png"
HTML: Final = "report.html"


def prepare_out(out: Path) -> None:
    """Create ``out`` and check it takes files; bad input naming ``--out`` if not."""
    probe = out / ".skynet-write-test"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise BadInputError(f"cannot write into {out}: {exc.strerror}", field="--out") from None


def write_outputs(run: DemoRun, out: Path) -> dict[str, Path]:
    """Write the three files into ``out`` (created if needed); returns their paths."""
    prepare_out(out)
    route = run.result.route
    assert route is not None
    paths = {"geojson": out / GEOJSON, "png": out / PNG, "html": out / HTML}
    image = draw_route_map(
        run.investigation.network,
        run.investigation.registry,
        run.investigation.attachment,
        route,
        notes=[MapNote(c.camera_id, f"next: {c.camera_id}") for c in run.next_cameras[:3]],
        utc_offset_h=run.utc_offset_h,
        title=f"Skynet: {run.scenario.spec.name.replace('_', ' ')} escape route",
    )
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise RuntimeError("OpenCV could not encode the map as PNG")
    thumbs = evidence_thumbnails(run.footage, [e.sighting for e in run.result.timeline.entries])
    try:
        paths["geojson"].write_text(json.dumps(route_document(run)), encoding="utf-8")
        paths["png"].write_bytes(bytes(png))
        paths["html"].write_text(render_html(report_of(run, bytes(png), thumbs)), "utf-8")
    except OSError as exc:
        raise BadInputError(f"cannot write into {out}: {exc.strerror}", field="--out") from None
    return paths


def route_document(run: DemoRun) -> dict[str, Any]:
    """RFC 7946: the route and alternatives, sightings, every camera, the cameras to open next."""
    route = run.result.route
    assert route is not None
    base = route.as_geojson()
    evidence = {
        f["properties"]["id"]: f["properties"]["evidence"]
        for f in base["features"]
        if f["properties"].get("role") == "camera"
    }
    features = [f for f in base["features"] if f["properties"].get("role") != "camera"]
    for camera in run.investigation.registry:
        properties = {
            "role": "camera",
            "id": camera.id,
            "name": camera.name,
            "kind": camera.kind,
            "status": camera.status,
            "evidence": evidence.get(camera.id, "none"),
        }
        features.append(_point(camera.lon, camera.lat, properties))
    for rank, nxt in enumerate(run.next_cameras, 1):
        camera = run.investigation.registry.get(nxt.camera_id)
        properties = {
            "role": "next_camera",
            "rank": rank,
            "id": nxt.camera_id,
            "window_start": format_time(nxt.window_start_s, run.utc_offset_h, timespec="seconds"),
            "window_end": format_time(nxt.window_end_s, run.utc_offset_h, timespec="seconds"),
            "share": nxt.share,
            "reason": nxt.reason,
        }
        features.append(_point(camera.lon, camera.lat, properties))
    return {"type": "FeatureCollection", "features": features}


def _point(lon: float, lat: float, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def window_text(camera: FrontierCamera, utc_offset_h: float) -> str:
    """``21:37:10–21:44:00``: the minutes to open on a camera."""
    start = format_time(camera.window_start_s, utc_offset_h)[11:19]
    end = format_time(camera.window_end_s, utc_offset_h)[11:19]
    return f"{start}–{end}"


def summary_facts(run: DemoRun) -> list[tuple[str, str]]:
    """The headline figures a detective reads first, worded once for the CLI and the report."""
    route = run.result.route
    assert route is not None
    entries = run.result.timeline.entries
    first, last = entries[0].sighting, entries[-1].sighting
    inferred = route.length_m - watched_length_m(run)
    offset = run.utc_offset_h
    cameras = len({e.sighting.camera_id for e in entries})
    return [
        ("seed", f"{run.seed.id} at {run.seed.camera_id} (crash-scene camera)"),
        ("route length", f"{route.length_m / 1000:.2f} km, probability {route.probability:.2f}"),
        (
            "time span",
            f"{format_time(first.t_in, offset, timespec='seconds')} → "
            f"{format_time(last.t_out, offset, timespec='seconds')[11:19]} "
            f"({(last.t_out - first.t_in) / 60:.0f} min)",
        ),
        ("seen by", f"{len(entries)} sightings at {cameras} cameras"),
        (
            "inferred",
            f"{inferred / 1000:.2f} km on road no online camera watches "
            f"({inferred / route.length_m:.0%} of the route)"
            if route.length_m
            else "none",
        ),
        ("ends", f"{run.result.timeline.end.reason}: {run.result.timeline.end.detail}"),
        (
            "where it went",
            f"{run.searched_share:.0%} of where it could next be seen lies on cameras whose "
            f"footage shows nothing like it"
            + (
                f": it most likely stopped near {last.camera_id}"
                if run.searched_share > 0.5
                else ""
            ),
        ),
        ("case / audit", f"{run.result.target_id} (audit #{run.result.audit_id})"),
    ]


def watched_length_m(run: DemoRun) -> float:
    """Metres of the route inside an online camera's watched span (the rest is inferred).

    A camera watches tens of metres of an edge that may run for a kilometre,
    so spans count, not whole edges; overlapping spans count once.
    """
    route = run.result.route
    assert route is not None
    network, attachment = run.investigation.network, run.investigation.attachment
    per_edge = watched_lengths(attachment.parts, attachment.online, network.edges.length)
    return float(per_edge[np.unique(route.edges)].sum())


def accuracy_facts(run: DemoRun) -> list[tuple[str, str]]:
    a = run.accuracy
    return [
        ("route edge-F1", f"{a.edge_f1:.3f} (precision {a.precision:.3f}, recall {a.recall:.3f})"),
        (
            "length",
            f"{a.length_m / 1000:.2f} km against {a.true_length_m / 1000:.2f} km "
            f"(error {a.length_error:.1%})",
        ),
        (
            "cameras that saw the escape, linked",
            f"{a.cameras_linked} of {a.cameras_saw}"
            + (f" (missed: {', '.join(a.missed_cameras)})" if a.missed_cameras else ""),
        ),
        (
            "other vehicles linked",
            f"{a.wrong_sightings} sightings ({a.lookalikes_linked} of look-alikes)",
        ),
    ]


def report_of(run: DemoRun, png: bytes, thumbs: dict[str, bytes]) -> Report:
    route = run.result.route
    assert route is not None
    rows = [
        TimelineRow(
            number=number,
            time=format_time(e.sighting.t_in, run.utc_offset_h, timespec="seconds"),
            camera_id=e.sighting.camera_id,
            vehicle_class=e.sighting.vehicle_class,
            link_probability=e.link_probability,
            sighting_id=e.sighting.id,
            thumbnail_jpeg=thumbs.get(e.sighting.id),
        )
        for number, e in enumerate(run.result.timeline.entries, 1)
    ]
    alternatives = [
        (f"alternative {rank}", f"{alt.length_m / 1000:.2f} km, probability {alt.probability:.2f}")
        for rank, alt in enumerate(route.alternatives, 1)
    ]
    next_cameras = [
        (c.camera_id, window_text(c, run.utc_offset_h), f"{c.share:.0%}", c.reason)
        for c in run.next_cameras
    ]
    return Report(
        title="Skynet — hit-and-run investigation (bundled demo)",
        subtitle=run.scenario.spec.description,
        facts=summary_facts(run),
        map_png=png,
        timeline=rows,
        alternatives=alternatives or [("alternatives", "none: no other road path fits the times")],
        next_cameras=next_cameras,
        accuracy=accuracy_facts(run),
        notes=(
            "Synthetic scenario with ground truth; sightings were matched to vehicles "
            "through the renderer's ground truth for the accuracy figures only.",
        ),
    )
