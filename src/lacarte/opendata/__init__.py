"""The weekly open-data file: its descriptor, its destinations, and the export that writes it
aside, validates it and only then replaces the stable file."""
