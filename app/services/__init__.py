"""Domain services: plain functions taking a session and plain values; they flush, never commit."""
