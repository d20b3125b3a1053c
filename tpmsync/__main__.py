"""`python -m tpmsync` is the `tpmsync` command."""

from tpmsync.cli import main

main()
