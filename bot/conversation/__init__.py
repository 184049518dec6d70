"""What people say to Loa: commands, registration, and (later) answers to data prompts."""
