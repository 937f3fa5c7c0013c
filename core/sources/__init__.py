"""Reading the outside world: config.json, safetensors headers, the HuggingFace cache, GPU tools, engine logs."""
