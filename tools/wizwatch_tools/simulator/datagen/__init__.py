"""Realistic Wiz records, deterministic for a seed: one module per log type.

Shapes follow ``shared/samples/wiz``: audit entries with exactly one of ``user`` /
``serviceAccount`` set (Logins of service accounts carry ``clientID``/``scopes``/``userpoolID``),
``sourceIP``/``userAgent`` sometimes null; issues with both ``sourceRule`` and ``sourceRules``;
findings whose ``vulnerableAsset`` is typed by ``__typename`` so union fragments resolve.
The builders only make records; the store decides when they become visible.

- :mod:`.actors`: the tenant's people, service accounts, projects and random ids/tokens/IPs
- :mod:`.audit`: audit log entries (``Wiz.Audit``)
- :mod:`.issues`: issues (``Wiz.Issues``)
- :mod:`.vulnerabilities`: vulnerability findings (``Wiz.VulnerabilityFinding``)
- :mod:`.configuration`: cloud configuration findings (``Wiz.CloudConfigurationFinding``)
"""
