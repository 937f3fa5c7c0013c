"""The profile: one deployment what-if (its schema), its TOML files, single-field edits and where user files live."""
