"""Stakeholder status reports: one report object built from the store, rendered per audience.

- `tpmsync.report.build.build_report` reads the store (KPI snapshots, tasks) into a `Report`;
- `render_text`, `render_markdown`, `render_html`, `render_json` turn it into each format;
- `charts` draws the PNG charts (matplotlib, imported only when a chart is drawn);
- `outgoing.build_outgoing` renders everything a delivery channel needs;
- `write.write_report` writes one format to a file (`tpmsync report … --out FILE`).

Nothing here is imported by `tpmsync status`.
"""
