"""The ``napkin`` command line (napkinmath.cli): one module per subcommand under cli/commands/."""
