"""A package, to show imports from the files packed next to main.py."""
