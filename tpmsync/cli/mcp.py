"""`tpmsync mcp`: serve the local store to AI assistants over the Model Context Protocol, read-only.

Imported by every `tpmsync` command: everything beyond click is imported inside the command, and
the server itself only when the extra is installed.
"""

from __future__ import annotations

import click

from tpmsync.cli.context import Context
from tpmsync.errors import TpmsyncError


def parse_listen(value: str) -> tuple[str, int]:
    """`127.0.0.1:8765` → ("127.0.0.1", 8765); only loopback addresses are accepted."""
    import ipaddress

    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise click.BadParameter(f"{value!r} is not HOST:PORT, e.g. 127.0.0.1:8765")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise click.BadParameter(
            f"{host} is not a loopback address; the MCP server answers only on this machine (127.0.0.1, ::1)"
        )
    return host, int(port_text)


@click.command("mcp")
@click.option("--http", "listen", metavar="127.0.0.1:PORT", help="Serve streamable HTTP on loopback, not stdio.")
@click.pass_obj
def mcp(obj: Context, listen: str | None) -> None:
    """Answer AI assistants from the local store over MCP (read-only, no Asana token needed).

    Tools: status, project_detail, what_changed, critical_path, forecast, people, explain_verdict;
    the latest daily and weekly reports as resources; a "weekly status for stakeholders" prompt.
    Needs the extra: pip install 'tpmsync[mcp]'. See docs/mcp.md for Claude Desktop, VS Code, Cursor.

    \b
    Example:
      tpmsync mcp                              # stdio, for Claude Desktop, VS Code, Cursor
      tpmsync mcp --http 127.0.0.1:8765        # streamable HTTP at http://127.0.0.1:8765/mcp
    """
    http = parse_listen(listen) if listen else None
    try:
        from tpmsync.mcp.server import serve
    except ImportError as exc:
        raise TpmsyncError(f"the MCP server needs the mcp extra: pip install 'tpmsync[mcp]' ({exc})") from exc
    from tpmsync.mcp.adapter import ReadOnlySource

    settings = obj.settings
    where = f" on http://{listen}/mcp" if http else " on stdio"
    click.echo(f"tpmsync mcp: answering from {_safe(settings.database_url)} read-only{where}", err=True)
    serve(ReadOnlySource(settings), http)


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
