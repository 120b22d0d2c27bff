"""Writing: ideas, loglines, outlines and Fountain screenplays."""
