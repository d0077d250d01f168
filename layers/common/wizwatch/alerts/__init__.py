"""alerts stage of the pipeline."""
