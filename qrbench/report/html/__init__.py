"""The HTML report: SVG charts written in Python (`svg`, `charts`), the document (`page`),
its parts built from what commands have in hand (`parts`) or read from files (`inputs`).
`report/export/html.py` is its exporter. See docs/report.md."""
