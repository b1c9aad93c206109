"""RQ workers, queues and failed jobs: what the /workers page, its API and the health check read."""
