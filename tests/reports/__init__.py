"""Tests of the reports published from the marts."""
