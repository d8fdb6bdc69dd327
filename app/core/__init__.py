"""The core every feature stands on: database, errors, the one clock, the outbox, Redis, uploads,
health checks, the periodic-job registry, shared words and the timeline."""
