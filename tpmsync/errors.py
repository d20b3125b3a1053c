"""The base of every error a person can act on. Each message is one line that says what to do."""


class TpmsyncError(Exception):
    """Printed by the CLI as `error: <message>` with `exit_code` (1 unless a subclass says otherwise;
    docs/exit-codes.md lists them)."""

    exit_code = 1
