"""notify stage of the pipeline."""
