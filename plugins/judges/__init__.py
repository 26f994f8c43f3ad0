"""Built-in judges: each gives a verdict per quality criterion of a response."""
