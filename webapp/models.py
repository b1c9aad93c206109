"""Imports every area's models so the metadata is complete for Alembic and the tests."""
from webapp.audit.models import AuditEvent  # noqa: F401
from webapp.auth.models import EmailToken, UserSession  # noqa: F401
from webapp.console.models import SavedFilter  # noqa: F401
from webapp.costs.budget_models import (  # noqa: F401
    Budget,
    BudgetAlert,
    BudgetHold,
    BudgetPeriod,
    BudgetReservation,
    Price,
)
from webapp.costs.models import CostRecord  # noqa: F401
from webapp.decomposition.models import Decomposition  # noqa: F401
from webapp.events.models import Event  # noqa: F401
from webapp.events.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery  # noqa: F401
from webapp.leases import Lease  # noqa: F401
from webapp.mail.models import OutboxMail  # noqa: F401
from webapp.memory.models import MemoryEntry  # noqa: F401
from webapp.runs.models import Checkpoint, StepAttempt, StepRun, WorkflowRun  # noqa: F401
from webapp.users.models import User, UserInvite  # noqa: F401
from webapp.workflows.models import Workflow, WorkflowVersion  # noqa: F401
