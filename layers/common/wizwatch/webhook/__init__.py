"""The webhook endpoint: Wiz pushes issues and Defend detections; they are archived beside the
polled pages (raw/<LogType>/dt=.../pushed/<sha256>.json.gz) for the detector."""
