"""Read Prometheus text: the samples of a scrape, and the metric names it declares."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

_SUFFIXES = {
    "histogram": ("_bucket", "_count", "_sum"),
    "counter": ("_total",),
    "summary": ("_count", "_sum"),
}


@dataclass
class Scrape:
    text: str

    def value(self, name: str, **labels: str) -> float | None:
        """The sample ``name`` whose labels include ``labels`` (the first such), or None."""
        for family in text_string_to_metric_families(self.text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return None

    def names(self) -> set[str]:
        """Every series name a query may use: declared families (with or without samples), with
        their histogram and counter suffixes."""
        out: set[str] = set()
        for family in text_string_to_metric_families(self.text):
            out.add(family.name)
            out.update(family.name + s for s in _SUFFIXES.get(family.type, ()))
            out.update(s.name for s in family.samples)
        return out
