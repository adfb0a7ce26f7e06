"""Rule-based question families, one module per level."""
