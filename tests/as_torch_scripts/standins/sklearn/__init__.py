"""Stand-in for the scikit-learn calls of seed tutorial 004 (see ../README.md)."""
