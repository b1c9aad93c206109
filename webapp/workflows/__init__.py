"""Workflow definitions: models, validation, templating, service, API and CLI."""
