"""Views of the builder app, one module per area."""
