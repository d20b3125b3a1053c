"""`tpmsync` command line: parse, call one library function, render. No business logic here.

`main` is the console script (`tpmsync = "tpmsync.cli:main"`). Heavy modules (the asana SDK,
SQLAlchemy, rich) are imported inside the commands that need them, so that `tpmsync status` starts
fast.
"""

from tpmsync.cli.app import check_commands_have_examples, main

__all__ = ["check_commands_have_examples", "main"]
