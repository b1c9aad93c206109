"""Costs: cost records, the dated price table, budgets with reservations and holds, estimates, the
/costs dashboard, its API and `flask costs reconcile` (docs/costs.md)."""
