"""detect stage of the pipeline."""
