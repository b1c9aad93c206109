"""Workflow execution: runs, step runs, checkpoints, the engine, the reconciler, API and CLI.

DESIGN §2 puts runs under ``webapp/workflows/``; they live here instead so that definitions
(``webapp/workflows``) and execution stay two small packages that can change independently.
"""
