"""SODAV Monitor edge agent."""
