"""The sound-card sink and the live session: player, devices, controller, status output."""
