"""Tests of the production image and compose stack, run without a Docker engine."""
