"""Built-in task types: one module per type, each with its labeling form under templates/."""
