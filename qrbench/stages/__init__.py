"""The stages of the QR path, one module per concern (see DESIGN.md, "The QR path")."""
