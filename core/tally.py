"""The running tally of a musyawarah: KK (distinct families) and jiwa (affected members) by type, reason,
decision and programme — what the projector shows and the Berita Acara reports."""

from __future__ import annotations

from collections import defaultdict

from core.proposals import JENIS, KEPUTUSAN, NONAKTIF_REASONS


def tally(proposals: list[dict]) -> dict:
    """From ``proposals.list_proposals`` output (cancelled items already left out)."""
    groups: dict[str, dict[str, tuple[set, set]]] = defaultdict(lambda: defaultdict(lambda: (set(), set())))

    def add(dimension: str, key: str, item: dict) -> None:
        kk, jiwa = groups[dimension][key]
        kk.add(item["no_kk"])
        jiwa.update(m["nik"] for m in item["anggota"])

    for item in proposals:
        add("jenis", item["jenis"], item)
        add("keputusan", item["keputusan"] or "belum", item)
        if item["jenis"] == "nonaktif":
            add("alasan_nonaktif", item["alasan_nonaktif"], item)
        for program in item["programs"]:
            add("program", program, item)
        if item["keputusan"] == "disepakati":
            add("disepakati_per_jenis", item["jenis"], item)
        add("total", "semua", item)
    return {dim: {key: {"kk": len(kk), "jiwa": len(jiwa)} for key, (kk, jiwa) in sorted(values.items())}
            for dim, values in groups.items()}


def label(dimension: str, key: str) -> str:
    table = {"jenis": JENIS, "disepakati_per_jenis": JENIS, "keputusan": {**KEPUTUSAN, "belum": "Belum diputuskan"},
             "alasan_nonaktif": NONAKTIF_REASONS}.get(dimension, {})
    return table.get(key, key)
