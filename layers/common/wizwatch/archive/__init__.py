"""The raw archive: one gzip object per fetched Wiz page, under ``raw/<LogType>/``."""
