"""The verification map: clustered markers built from plain points (the colour logic lives in core.evidence).

Leaflet and the tiles load in the browser from the internet; in an office without it the map stays blank,
but the page around it (table, details, manual coordinates) keeps working.
"""

from __future__ import annotations

import folium
from folium.plugins import FastMarkerCluster

JAKARTA = (-6.2, 106.85)

# A small JavaScript callback draws every marker in the browser: thousands stay responsive.
_MARKER_JS = """
function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]), {radius: 7, color: row[2], fillColor: row[2],
                                                                fillOpacity: 0.8});
    marker.bindTooltip(row[3]);
    return marker;
}
"""


def build(points: list[dict]) -> folium.Map:
    centre = (sum(p["lat"] for p in points) / len(points), sum(p["lon"] for p in points) / len(points)) \
        if points else JAKARTA
    m = folium.Map(location=centre, zoom_start=16 if points else 12, control_scale=True)
    data = [[p["lat"], p["lon"], p["colour"], f"RT {p['rt']}/RW {p['rw']} · keluarga #{p['family_id']}"]
            for p in points]
    FastMarkerCluster(data, callback=_MARKER_JS).add_to(m)
    return m


def nearest(points: list[dict], lat: float, lon: float) -> dict | None:
    """The point a click landed on (the closest one)."""
    if not points:
        return None
    return min(points, key=lambda p: (p["lat"] - lat) ** 2 + (p["lon"] - lon) ** 2)
