"""The pure core: campaign model, file loading with line-numbered errors, and the timeline."""
