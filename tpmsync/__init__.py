"""tpmsync: Asana projects in a local store, KPIs and stakeholder status reports."""

__version__ = "0.1.0"
