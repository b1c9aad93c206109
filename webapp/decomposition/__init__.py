"""Task decomposition: a goal split into a validated, planned DAG of subtasks, run as a workflow."""
