"""Workflow execution: runs, step runs, attempts, checkpoints, the engine, the reconciler, API and CLI.

Definitions (``webapp/workflows``) and execution (here) are two small packages that can change
independently; docs/architecture.md draws how they meet.
"""
