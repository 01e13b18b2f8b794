"""What is kept about the user between runs: the saved place for --resume."""
