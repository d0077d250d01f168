"""dedup stage of the pipeline."""
