"""PLACEHOLDER (lead is writing it)."""
def warmup(): pass
