"""Generation backends behind one small protocol."""
