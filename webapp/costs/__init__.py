"""Cost records (budgets and the dashboard come later)."""
