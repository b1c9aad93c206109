"""RQ entry points. Thin on purpose: take ids, load rows, call a webapp service.

Nothing here creates an app or opens a connection at import time; the worker process owns
the app (see ``jobs.worker``) and runs every job inside its app context.
"""
