"""The base of every error a person can act on. Each message is one line that says what to do."""


class TpmsyncError(Exception):
    """Printed by the CLI as `error: <message>` with exit code 1."""
