"""One module per export format; each holds the importer that detects and reads that format."""
