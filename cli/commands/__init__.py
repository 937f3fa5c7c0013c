"""One module per ``napkin`` subcommand (or small group), each with a ``COMMANDS`` list (cli/registry.py)."""
