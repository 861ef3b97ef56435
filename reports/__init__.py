"""Reports published from the `marts` schema for the people the PMO serves."""
