"""A small client for Sluice's REST API (standard library only)."""

from .client import Client, JobFailed, SluiceError

__all__ = ["Client", "JobFailed", "SluiceError"]
