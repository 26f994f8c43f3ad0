"""Built-in exporters: each streams export rows out as bytes in one file format."""
