"""Allow ``python -m pgcrisis``."""

from pgcrisis.cli.main import main

main()
