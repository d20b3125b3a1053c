"""The types of the KPI engine, by family: its inputs, each area's results and their JSON.

- `inputs`: what the loaders build (`ProjectInput`, `TaskInput`, `DueChange`, `AsanaBudget`, and
  for flow `FlowProject`, `FlowTask`, `FlowEvent`).
- `deadline`, `forecast`, `budget`, `dependencies`, `quality`, `flow`: each area's results, with
  `to_json` and a `from_json` that gives back an equal value.
- `verdict`: `Health`, `Verdict` and the areas; `project`: `ProjectKpis`, every KPI of a project.
- `values`: the JSON encodings they share (dates, tasks, capped lists).

Everything is plain, frozen data; the engine computes it, see docs/kpis.md for every number.
The package itself exports nothing: import a type from its module (or from `tpmsync.kpi`).
"""
