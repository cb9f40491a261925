"""qrbench: measure how long a headless-browser WhatsApp gateway takes to show a login QR."""

__version__ = "0.1.0"
