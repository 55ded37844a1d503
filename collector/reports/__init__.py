"""Reports for analysts: plays, relevés de diffusion, airtime, station activity, unidentified music,
and the monthly/semester files the worker generates (see docs/analyst/reports.md)."""
