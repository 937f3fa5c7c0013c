"""What hardware and models are: precisions, GPU and model specs, and the catalogs (TOML data in ``data/``)."""
