"""Human review: queues and routing, priorities, cases, appeals and reviewer wellness."""
