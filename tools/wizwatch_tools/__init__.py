"""Developer tooling for Wizwatch: CLI, Wiz API simulator, embedded local stack, benchmarks.

Never shipped to Lambda (the layer is ``layers/common``).
"""
