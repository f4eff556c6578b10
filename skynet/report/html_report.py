"""A self-contained HTML report: one file, images inlined, no script, opens offline."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape


@dataclass(frozen=True)
class TimelineRow:
    """One sighting of the timeline as the report shows it."""

    number: int
    time: str
    camera_id: str
    vehicle_class: str
    link_probability: float | None
    sighting_id: str
    thumbnail_jpeg: bytes | None = None


@dataclass(frozen=True)
class Report:
    """What the report says, already worded; the page only lays it out."""

    title: str
    subtitle: str
    facts: Sequence[tuple[str, str]]
    map_png: bytes
    timeline: Sequence[TimelineRow]
    alternatives: Sequence[tuple[str, str]] = ()
    next_cameras: Sequence[tuple[str, str, str, str]] = ()  # camera, window, share, why
    accuracy: Sequence[tuple[str, str]] = ()
    notes: Sequence[str] = field(default_factory=tuple)


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}
table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:4px 10px;
text-align:left;vertical-align:middle}th{background:#f3f3f3}td.n{text-align:right}
img.map{width:100%;border:1px solid #ccc}img.thumb{height:64px;border:1px solid #999}
.facts td:first-child{color:#555}
"""


def render_html(report: Report) -> str:
    """The page as one string."""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(report.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(report.title)}</h1><p class='sub'>{escape(report.subtitle)}</p>",
        _pairs("Summary", report.facts, "facts"),
        "<h2>Map</h2>",
        f'<img class="map" alt="route map" src="data:image/png;base64,{_b64(report.map_png)}">',
        _timeline(report.timeline),
    ]
    if report.alternatives:
        parts.append(_pairs("Alternatives", report.alternatives, "alternatives"))
    if report.next_cameras:
        rows = "".join(
            f"<tr><td>{escape(c)}</td><td>{escape(w)}</td><td class='n'>{escape(s)}</td>"
            f"<td>{escape(why)}</td></tr>"
            for c, w, s, why in report.next_cameras
        )
        parts.append(
            "<h2>Cameras to open next</h2><table id='next'><tr><th>camera</th><th>window</th>"
            f"<th>share</th><th>why</th></tr>{rows}</table>"
        )
    if report.accuracy:
        parts.append(_pairs("Accuracy against the ground truth", report.accuracy, "accuracy"))
    parts += [f"<p>{escape(note)}</p>" for note in report.notes]
    parts.append("</body></html>")
    return "\n".join(parts)


def _pairs(heading: str, rows: Sequence[tuple[str, str]], element_id: str) -> str:
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<h2>{escape(heading)}</h2><table class='{element_id}' id='{element_id}'>{body}</table>"


def _timeline(rows: Sequence[TimelineRow]) -> str:
    head = (
        "<h2>Timeline</h2><table id='timeline'><tr><th>#</th><th>time</th><th>camera</th>"
        "<th>class</th><th>link p</th><th>evidence</th><th>sighting</th></tr>"
    )
    body = []
    for row in rows:
        p = "seed" if row.link_probability is None else f"{row.link_probability:.2f}"
        thumb = (
            f'<img class="thumb" alt="evidence" src="data:image/jpeg;base64,'
            f'{_b64(row.thumbnail_jpeg)}">'
            if row.thumbnail_jpeg
            else ""
        )
        body.append(
            f"<tr><td class='n'>{row.number}</td><td>{escape(row.time)}</td>"
            f"<td>{escape(row.camera_id)}</td><td>{escape(row.vehicle_class)}</td>"
            f"<td class='n'>{p}</td><td>{thumb}</td><td><code>{escape(row.sighting_id)}</code></td>"
            "</tr>"
        )
    return head + "".join(body) + "</table>"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
