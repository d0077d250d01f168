"""poll stage of the pipeline."""
