"""Live updates for the web app: what changed (station states, plays) as server-sent events."""
