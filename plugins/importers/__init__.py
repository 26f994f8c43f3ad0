"""Built-in importers: each turns an uploaded file into numbered records."""
