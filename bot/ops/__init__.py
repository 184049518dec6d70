"""The operations a coordinator or a unit performs, shared by every face (chat, command line,
web): async functions over the store with typed inputs and results. No templates, no platform,
and nothing here calls back into a face."""
