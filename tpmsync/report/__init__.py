"""Stakeholder status reports: one report object built from typed KPIs, rendered per audience.

- `build.build_report` turns what `tpmsync.reporting.gather` read from the store (`inputs.ReportInputs`)
  into a `Report` (pure): `build_project` makes each project's part from its KPIs, `build_extras`
  adds its flow, the people's load, why the forecast moved and the written status
  (`facts` → `narrative`);
- `model` (with `model_tasks`, `model_flow`, `model_written`, and `codec` for its JSON) is the report;
- `render_text`, `render_markdown`, `render_html`, `render_json`, `render_asana` turn it into each
  format, `render_summary` into the email's plain-text summary; `wording` words it for all of them;
- `charts` draws the PNG charts (matplotlib, imported only when a chart is drawn);
- `outgoing.build_outgoing` renders everything a delivery channel needs;
- `write.write_report` writes one format to a file (`tpmsync report … --out FILE`).

Nothing here is imported by `tpmsync status`.
"""
