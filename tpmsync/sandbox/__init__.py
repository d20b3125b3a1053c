"""A local Asana-compatible HTTP server and a generated sample workspace.

Tests, ``tpmsync demo`` and benchmarks point the official ``asana`` SDK at it::

    from tpmsync.sandbox import SandboxServer, generate_workspace

    with SandboxServer(generate_workspace(seed=1, projects=3)) as server:
        ...  # asana.Configuration().host = server.base_url; access_token = server.token

Run one standalone with ``python -m tpmsync.sandbox --port 8765``.
"""

from tpmsync.sandbox.control import Faults, Stats
from tpmsync.sandbox.events import Event, ResourceRef
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.model import (
    AsanaWorkspace,
    Budget,
    CustomField,
    EnumOption,
    Membership,
    Portfolio,
    Project,
    Section,
    StatusUpdate,
    Story,
    Task,
    Team,
    User,
)
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.strict import Strictness
from tpmsync.sandbox.workspace import InvalidRequest, NotFoundError, Workspace

__all__ = [
    "AsanaWorkspace",
    "Budget",
    "CustomField",
    "EnumOption",
    "Event",
    "Faults",
    "InvalidRequest",
    "Membership",
    "NotFoundError",
    "Portfolio",
    "Project",
    "ResourceRef",
    "SandboxServer",
    "Section",
    "Stats",
    "StatusUpdate",
    "Story",
    "Strictness",
    "Task",
    "Team",
    "User",
    "Workspace",
    "generate_workspace",
]
