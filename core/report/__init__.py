"""Reports: the Markdown export and the shared number formats."""
