"""rfm: score customers from e-commerce order exports and write upload-ready segment lists."""

__version__ = "0.1.0"
