"""The memory hierarchy: L1 per process, L2 Redis, L3 ``memory_entries``, L4 blob files.

``store.memory()`` is the app's store; ``memo`` builds on it for step memoization. See
docs/memory.md for the tiers, the consistency bound and how to read /memory.
"""
