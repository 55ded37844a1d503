"""Words the reports show, in French (default) and English. Keys are the JSON/CSV column names."""

from __future__ import annotations

LANGS = ("fr", "en")

_LABELS: dict[str, tuple[str, str]] = {
    # columns
    "id": ("N°", "ID"),
    "station": ("Station", "Station"),
    "station_name": ("Nom de la station", "Station name"),
    "date": ("Date", "Date"),
    "start": ("Début", "Start"),
    "end": ("Fin", "End"),
    "duration": ("Durée diffusée", "Played duration"),
    "title": ("Titre", "Title"),
    "artist": ("Artiste", "Artist"),
    "isrc": ("ISRC", "ISRC"),
    "iswc": ("ISWC", "ISWC"),
    "publisher": ("Éditeur", "Publisher"),
    "label": ("Label", "Label"),
    "composer": ("Compositeur", "Composer"),
    "external_id": ("Réf. catalogue", "Catalog ref."),
    "status": ("Statut", "Status"),
    "confidence": ("Confiance", "Confidence"),
    "flagged": ("Signalée fausse", "Flagged false"),
    "plays": ("Diffusions", "Plays"),
    "seconds": ("Durée totale", "Total duration"),
    "hours": ("Durée totale", "Total duration"),
    "stations": ("Stations", "Stations"),
    "recordings": ("Enregistrements", "Recordings"),
    "period_hours": ("Durée de la période", "Period"),
    "monitored_hours": ("Durée surveillée", "Monitored"),
    "monitored_share": ("Part surveillée (%)", "Share monitored (%)"),
    "outages": ("Coupures", "Outages"),
    "outage_hours": ("Durée des coupures", "Outage time"),
    "silences": ("Silences", "Silences"),
    "silence_hours": ("Durée des silences", "Silence time"),
    "segments": ("Segments", "Segments"),
    "unidentified_hours": ("Durée non identifiée", "Unidentified time"),
    "level_dbfs": ("Niveau moyen (dBFS)", "Mean level (dBFS)"),
    # titles
    "t_plays": ("Diffusions", "Plays"),
    "t_playlist": ("Relevé de diffusion", "Broadcast playlist"),
    "t_airtime_recording": ("Temps d'antenne par enregistrement", "Airtime per recording"),
    "t_airtime_artist": ("Temps d'antenne par artiste", "Airtime per artist"),
    "t_airtime_label": ("Temps d'antenne par label", "Airtime per label"),
    "t_airtime_station": ("Temps d'antenne par station", "Airtime per station"),
    "t_airtime_recording_station": (
        "Temps d'antenne par enregistrement et station",
        "Airtime per recording and station",
    ),
    "t_activity": ("Activité des stations", "Station activity"),
    "t_unidentified": ("Musique non identifiée", "Unidentified music"),
    "t_unidentified_runs": ("Passages non identifiés", "Unidentified stretches"),
    # sheet names (31 characters at most)
    "s_t_airtime_recording": ("Par enregistrement", "By recording"),
    "s_t_airtime_artist": ("Par artiste", "By artist"),
    "s_t_airtime_label": ("Par label", "By label"),
    "s_t_airtime_station": ("Par station", "By station"),
    "s_t_airtime_recording_station": ("Par enregistrement et station", "By recording and station"),
    "s_t_unidentified": ("Par station", "By station"),
    "s_t_unidentified_runs": ("Passages", "Stretches"),
    # header lines
    "period": ("Période", "Period"),
    "timezone": ("Heures locales, fuseau", "Local times, time zone"),
    "final_only": (
        "Seules les diffusions définitives (statut final) sont comptées, hors diffusions signalées fausses.",
        "Only final plays (status final) are counted, except plays flagged as false positives.",
    ),
    "open_flagged": (
        "Les diffusions encore ouvertes (statut open) sont marquées et peuvent changer.",
        "Plays still open (status open) are marked and may change.",
    ),
    "total": ("Total", "Total"),
    "page_of": ("Page {} sur {}", "Page {} of {}"),
    "source": ("SODAV Monitor", "SODAV Monitor"),
}


def sheet_name(key: str, lang: str) -> str:
    return label(f"s_{key}", lang) if f"s_{key}" in _LABELS else label(key, lang)[:31]


def label(key: str, lang: str) -> str:
    fr, en = _LABELS.get(key, (key, key))
    return en if lang == "en" else fr


def colon(lang: str) -> str:
    """French puts a space before a colon; English does not."""
    return ": " if lang == "en" else " : "


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    return lang
