"""Control inputs that become commands: terminal keys (media buttons and voice next)."""
