"""The only code that speaks SQL to the store."""
