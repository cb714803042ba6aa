"""nnopt: experiments on how neural-network optimization behaves."""

__version__ = "0.1.0"
